//! The password policy: 8 to 128 characters with upper case, lower case, a digit and a symbol.

/// Every rule the password breaks, as messages for `errors.password`.
pub fn policy_violations(password: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    let length = password.chars().count();
    if length < 8 {
        problems.push("must be at least 8 characters long");
    }
    if length > 128 {
        problems.push("must be at most 128 characters long");
    }
    if !password.chars().any(char::is_uppercase) {
        problems.push("must contain an upper-case letter");
    }
    if !password.chars().any(char::is_lowercase) {
        problems.push("must contain a lower-case letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        problems.push("must contain a digit");
    }
    if !password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        problems.push("must contain a symbol such as ! ? # or %");
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strong_password_passes() {
        assert!(policy_violations("Str0ng!pass").is_empty());
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(
            policy_violations("Sh0rt!"),
            vec!["must be at least 8 characters long"]
        );
        assert_eq!(
            policy_violations("lower0nly!"),
            vec!["must contain an upper-case letter"]
        );
        assert_eq!(
            policy_violations("UPPER0NLY!"),
            vec!["must contain a lower-case letter"]
        );
        assert_eq!(
            policy_violations("NoDigits!!"),
            vec!["must contain a digit"]
        );
        assert_eq!(
            policy_violations("NoSymbol12"),
            vec!["must contain a symbol such as ! ? # or %"]
        );
        let long = format!("Aa1!{}", "x".repeat(130));
        assert_eq!(
            policy_violations(&long),
            vec!["must be at most 128 characters long"]
        );
    }
}
