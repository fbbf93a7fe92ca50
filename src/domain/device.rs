//! A readable name for the client behind a `User-Agent`, for the list of sessions.

/// "Firefox on Linux", "Safari on iPhone", "curl", ...; "Unknown client" when nothing fits.
pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return "Unknown client".into();
    };
    let tools = [
        ("PostmanRuntime", "Postman"),
        ("curl/", "curl"),
        ("python-requests", "Python requests"),
        ("python-httpx", "Python httpx"),
        ("okhttp", "Android app (okhttp)"),
        ("Dart/", "Flutter app"),
        ("CFNetwork", "iOS app"),
        ("reqwest", "Rust reqwest"),
        ("node-fetch", "Node.js"),
        ("axios", "Node.js (axios)"),
    ];
    if let Some((_, name)) = tools.iter().find(|(marker, _)| ua.contains(marker)) {
        return (*name).into();
    }
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari too.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.into(),
        (None, Some(s)) => format!("A client on {s}"),
        (None, None) => "Unknown client".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_clients_get_their_names() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", "curl"),
            ("PostmanRuntime/7.39.0", "Postman"),
            ("", "Unknown client"),
            ("something", "Unknown client"),
        ];
        for (ua, name) in cases {
            assert_eq!(describe(Some(ua)), name, "{ua}");
        }
        assert_eq!(describe(None), "Unknown client");
    }
}
