//! Outgoing mail. SMTP (lettre) when `SMTP_URL` is set; otherwise each mail is written to
//! `$FINAI_DATA_DIR/outbox/` as an `.eml` file and logged, so a developer can follow its link.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, Message, SinglePart};
use lettre::{SmtpTransport, Transport};

use crate::config::{Environment, Settings};

#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait Mailer: Send + Sync {
    fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// `raw`: keep the body as written (for files a person reads, where quoted-printable would break
/// long links); otherwise lettre picks a transfer encoding that is safe over SMTP.
fn build_message(from: &Mailbox, mail: &Mail, raw: bool) -> Result<Message, String> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| format!("bad recipient {}: {e}", mail.to))?;
    let body = if raw {
        Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::Binary)
            .map_err(|_| "the mail body cannot be encoded".to_string())?
    } else {
        Body::new(mail.body.clone())
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| format!("cannot build the mail: {e}"))
}

pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
    log_bodies: bool,
}

impl Mailer for OutboxMailer {
    fn send(&self, mail: &Mail) -> Result<(), String> {
        let message = build_message(&self.from, mail, true)?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.dir.join(name);
        std::fs::write(&path, message.formatted())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if self.log_bodies {
            log::info!(
                "mail to {} saved to {}: {}\n{}",
                mail.to,
                path.display(),
                mail.subject,
                mail.body
            );
        } else {
            log::info!("mail to {} saved to {}", mail.to, path.display());
        }
        Ok(())
    }
}

pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: &Mail) -> Result<(), String> {
        let message = build_message(&self.from, mail, false)?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| format!("SMTP delivery to {} failed: {e}", mail.to))
    }
}

/// The mailer the settings ask for.
pub fn from_settings(settings: &Settings) -> Result<Arc<dyn Mailer>, String> {
    let from: Mailbox = settings
        .mail
        .from
        .parse()
        .map_err(|e| format!("FINAI_MAIL_FROM is not a mailbox: {e}"))?;
    match &settings.mail.smtp_url {
        Some(url) => {
            let transport = SmtpTransport::from_url(url.expose())
                .map_err(|e| format!("SMTP_URL is not a valid SMTP URL: {e}"))?
                .build();
            Ok(Arc::new(SmtpMailer { transport, from }))
        }
        None => Ok(Arc::new(OutboxMailer {
            dir: settings.data_dir.join("outbox"),
            from,
            log_bodies: settings.environment != Environment::Production,
        })),
    }
}

/// Sends without making the caller wait (or learn, through timing, whether a mail was sent).
pub fn send_in_background(mailer: Arc<dyn Mailer>, mail: Mail) {
    actix_web::rt::task::spawn_blocking(move || {
        if let Err(error) = mailer.send(&mail) {
            log::error!("{error}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_mails_keep_links_whole() {
        let dir = std::env::temp_dir().join(format!("finai-outbox-{}", uuid::Uuid::new_v4()));
        let mailer = OutboxMailer {
            dir: dir.clone(),
            from: "FinAI <no-reply@finai.local>".parse().unwrap(),
            log_bodies: false,
        };
        let link = format!(
            "http://127.0.0.1:8080/reset-password?token={}",
            "x".repeat(43)
        );
        mailer
            .send(&Mail {
                to: "ana@example.com".into(),
                subject: "Reset".into(),
                body: format!("Hello,\n\n{link}\n"),
            })
            .unwrap();
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(&link), "{text}");
        assert!(
            text.lines().any(|l| l.trim_end() == "To: ana@example.com"),
            "{text}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
