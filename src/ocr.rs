//! Reading a receipt's text: Tesseract for images (and for PDF pages without a text layer),
//! Poppler for PDFs. Both run as child processes at a lower CPU priority (`nice 10`), one
//! thread each, with a deadline after which they are killed, so a hostile or huge file costs
//! at most that long and never the server's own threads or memory. Images are decoded here
//! first, within limits (a decompression bomb is refused by its declared size), and handed to
//! Tesseract as a plain grey PNG, so Tesseract never parses what a client sent. HEIC photos are
//! decoded to PNG by libheif's `heif-convert` (Debian `libheif-examples`), a child process like
//! the others, with a memory limit of its own.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::config::OcrSettings;
use crate::domain::file_type::{check_dimensions, FileKind};

/// Why a file could not be read. The message is shown to the user on the failed receipt.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The file itself is at fault: it will never read.
    #[error("{0}")]
    Unreadable(String),
    /// This server cannot read it now (a program missing, a deadline passed).
    #[error("{0}")]
    Unavailable(String),
}

/// The most pages a PDF receipt may have.
pub const MAX_PDF_PAGES: u32 = 20;

/// Tesseract's languages: English and Vietnamese.
const LANGUAGES: &str = "eng+vie";

/// Checks an image's header: its format decodes and its declared size is within limits.
pub fn check_image(kind: FileKind, bytes: &[u8]) -> Result<(), String> {
    if kind == FileKind::Heic {
        let (width, height) = crate::domain::file_type::heif_dimensions(bytes)
            .ok_or("the image's header is unreadable: the HEIF file declares no image size")?;
        return check_dimensions(width, height).map_err(|e| e.to_string());
    }
    let format = image_format(kind).ok_or("not an image")?;
    let (width, height) = ImageReader::with_format(std::io::Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| format!("the image's header is unreadable: {e}"))?;
    check_dimensions(width, height).map_err(|e| e.to_string())
}

fn image_format(kind: FileKind) -> Option<ImageFormat> {
    match kind {
        FileKind::Jpeg => Some(ImageFormat::Jpeg),
        FileKind::Png => Some(ImageFormat::Png),
        FileKind::Webp => Some(ImageFormat::WebP),
        FileKind::Heic | FileKind::Pdf => None,
    }
}

/// The text of a receipt file.
pub fn read_text(
    settings: &OcrSettings,
    kind: FileKind,
    bytes: &[u8],
    scratch: &Path,
) -> Result<String, OcrError> {
    let deadline = Instant::now() + settings.timeout;
    match kind {
        FileKind::Pdf => read_pdf(settings, bytes, scratch, deadline),
        FileKind::Heic => {
            check_image(kind, bytes).map_err(OcrError::Unreadable)?;
            let decoded = heif_to_png(bytes, scratch, deadline)?;
            let png = prepare_image(FileKind::Png, &decoded)?;
            tesseract(settings, &png, deadline)
        }
        _ => {
            let png = prepare_image(kind, bytes)?;
            tesseract(settings, &png, deadline)
        }
    }
}

/// Decodes an image within limits and re-encodes it as a grey PNG, enlarged when small (OCR
/// reads text of 20 pixels or more best).
fn prepare_image(kind: FileKind, bytes: &[u8]) -> Result<Vec<u8>, OcrError> {
    check_image(kind, bytes).map_err(OcrError::Unreadable)?;
    // A JPEG cut short still decodes its top half (the decoder fills in the rest): without
    // its end marker it is refused, rather than read as a receipt without its total.
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
    if kind == FileKind::Jpeg && !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(OcrError::Unreadable(
            "the image is truncated: the JPEG cannot be decoded whole".into(),
        ));
    }
    let format = image_format(kind).ok_or_else(|| OcrError::Unreadable("not an image".into()))?;
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(crate::domain::file_type::MAX_SIDE);
    limits.max_image_height = Some(crate::domain::file_type::MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| OcrError::Unreadable(format!("the image cannot be decoded: {e}")))?;
    let mut grey = DynamicImage::ImageLuma8(image.to_luma8());
    // Enlarged to 1000 pixels wide at most, and never past the pixel limit (a 1 x 20,000
    // strip would otherwise become 20 billion pixels).
    let pixels = f64::from(grey.width()) * f64::from(grey.height());
    let scale = (1000.0 / f64::from(grey.width()))
        .min((crate::domain::file_type::MAX_PIXELS as f64 / pixels).sqrt());
    if scale > 1.05 {
        grey = grey.resize(
            (f64::from(grey.width()) * scale) as u32,
            (f64::from(grey.height()) * scale) as u32,
            image::imageops::FilterType::CatmullRom,
        );
    }
    let mut png = Vec::new();
    grey.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| OcrError::Unavailable(format!("re-encoding the image: {e}")))?;
    Ok(png)
}

fn tesseract(settings: &OcrSettings, png: &[u8], deadline: Instant) -> Result<String, OcrError> {
    let mut command = Command::new("nice");
    command
        .args(["-n", "10", &settings.tesseract, "stdin", "stdout"])
        .args(["-l", LANGUAGES, "--psm", "4"])
        .env("OMP_THREAD_LIMIT", "1");
    let out = run(command, png, deadline, "Tesseract")?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn read_pdf(
    settings: &OcrSettings,
    bytes: &[u8],
    scratch: &Path,
    deadline: Instant,
) -> Result<String, OcrError> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| OcrError::Unavailable(format!("scratch directory: {e}")))?;
    let file = Scratch(scratch.join(format!("{}.pdf", uuid::Uuid::new_v4())));
    std::fs::write(&file.0, bytes)
        .map_err(|e| OcrError::Unavailable(format!("writing the PDF aside: {e}")))?;
    let path = file.0.to_string_lossy().into_owned();
    let info = niced("pdfinfo", &[path.as_str()], deadline).map_err(|e| match e {
        OcrError::Unreadable(m) if m.contains("password") => {
            OcrError::Unreadable("the PDF is encrypted".into())
        }
        other => other,
    })?;
    let info = String::from_utf8_lossy(&info);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    if field("Encrypted:").is_some_and(|v| v.starts_with("yes")) {
        return Err(OcrError::Unreadable("the PDF is encrypted".into()));
    }
    let pages: u32 = field("Pages:")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| OcrError::Unreadable("the PDF has no pages".into()))?;
    if pages > MAX_PDF_PAGES {
        return Err(OcrError::Unreadable(format!(
            "the PDF has {pages} pages; a receipt may have at most {MAX_PDF_PAGES}"
        )));
    }
    let text = niced(
        "pdftotext",
        &[
            "-layout",
            "-f",
            "1",
            "-l",
            "3",
            "-enc",
            "UTF-8",
            path.as_str(),
            "-",
        ],
        deadline,
    )?;
    let text = String::from_utf8_lossy(&text).into_owned();
    if text.chars().filter(|c| c.is_alphanumeric()).count() >= 20 {
        return Ok(text);
    }
    // No text layer: OCR the first page, rendered at 300 dpi, or less for a page so large that
    // its picture would pass MAX_RENDER_SIDE pixels (a 700-byte PDF with a 50-inch page drove
    // pdftoppm and tesseract to 3.7 GB in an outside test).
    let dpi = render_dpi(field("Page size:").as_deref()).to_string();
    let png = niced(
        "pdftoppm",
        &[
            "-r",
            &dpi,
            "-f",
            "1",
            "-l",
            "1",
            "-gray",
            "-png",
            "-singlefile",
            path.as_str(),
        ],
        deadline,
    )?;
    tesseract(settings, &png, deadline)
}

/// The longest side, in pixels, a PDF page is rendered to for OCR: a receipt at 300 dpi is far
/// below it (an A4 page is 3,508).
const MAX_RENDER_SIDE: f64 = 3600.0;

/// The resolution to render a page of `size` (pdfinfo's "612 x 792 pts (letter)") at: 300 dpi,
/// or what keeps its longest side within [`MAX_RENDER_SIDE`]; an unreadable size is taken for
/// the largest page a PDF may have (200 inches).
fn render_dpi(size: Option<&str>) -> u32 {
    let longest = size
        .map(|size| {
            size.split(|c: char| c.is_whitespace() || c == 'x')
                .filter_map(|part| part.parse::<f64>().ok())
                .take(2)
                .fold(0.0_f64, f64::max)
        })
        .filter(|points| points.is_finite() && *points > 0.0)
        .unwrap_or(14_400.0);
    let fitting = MAX_RENDER_SIDE * 72.0 / longest;
    fitting.clamp(1.0, 300.0) as u32
}

/// The most memory `heif-convert` may map (a 40-megapixel photo decodes in well under it).
const HEIF_MEMORY: u64 = 1024 * 1024 * 1024;

/// Decodes a HEIC/HEIF file to PNG with `heif-convert`, in a scratch directory of its own (it
/// may write an image's auxiliary pictures beside it).
fn heif_to_png(bytes: &[u8], scratch: &Path, deadline: Instant) -> Result<Vec<u8>, OcrError> {
    let dir = ScratchDir(scratch.join(format!("heif-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0)
        .map_err(|e| OcrError::Unavailable(format!("scratch directory: {e}")))?;
    let (input, output) = (dir.0.join("in.heic"), dir.0.join("out.png"));
    std::fs::write(&input, bytes)
        .map_err(|e| OcrError::Unavailable(format!("writing the image aside: {e}")))?;
    let mut command = Command::new("nice");
    command
        .args(["-n", "10", "heif-convert"])
        .arg(&input)
        .arg(&output);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: HEIF_MEMORY as libc::rlim_t,
                    rlim_max: HEIF_MEMORY as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    run(command, &[], deadline, "heif-convert").map_err(|e| match e {
        OcrError::Unreadable(m) => {
            OcrError::Unreadable(format!("the HEIC image cannot be decoded: {m}"))
        }
        other => other,
    })?;
    std::fs::read(&output)
        .map_err(|_| OcrError::Unreadable("the HEIC image cannot be decoded".into()))
}

/// A scratch directory, removed with what is in it when dropped.
struct ScratchDir(std::path::PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A scratch file, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn niced(program: &str, args: &[&str], deadline: Instant) -> Result<Vec<u8>, OcrError> {
    let mut command = Command::new("nice");
    command.args(["-n", "10", program]).args(args);
    run(command, &[], deadline, program)
}

/// Runs a program with `input` on its standard input until it ends or the deadline passes
/// (then it is killed). Its output, if it ended well.
fn run(
    mut command: Command,
    input: &[u8],
    deadline: Instant,
    name: &str,
) -> Result<Vec<u8>, OcrError> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| OcrError::Unavailable(format!("{name} cannot be started: {e}")))?;
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input);
        }
        drop(stdin);
    });
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(stdout) = stdout.as_mut() {
            // At most 16 MiB of text: more is not a receipt.
            let _ = stdout.take(16 * 1024 * 1024).read_to_end(&mut out);
        }
        out
    });
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.take(64 * 1024).read_to_end(&mut out);
        }
        out
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::Unavailable(format!(
                    "{name} took longer than the reading's time limit"
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(OcrError::Unavailable(format!("{name}: {e}"))),
        }
    };
    let _ = writer.join();
    let out = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        let detail = String::from_utf8_lossy(&errors);
        let detail = detail.lines().last().unwrap_or("").trim();
        if status.code() == Some(127) {
            return Err(OcrError::Unavailable(format!(
                "{name} is not installed on this server"
            )));
        }
        Err(OcrError::Unreadable(format!(
            "{name} could not read the file: {detail}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::render_dpi;

    #[test]
    fn a_large_page_is_rendered_at_a_lower_resolution() {
        // A receipt, a letter page: 300 dpi.
        assert_eq!(render_dpi(Some("226.77 x 566.93 pts")), 300);
        assert_eq!(render_dpi(Some("612 x 792 pts (letter)")), 300);
        // A page of 4,500 points (62.5 inches): 3,600 pixels on its long side, not 18,750.
        assert_eq!(render_dpi(Some("4500 x 4500 pts")), 57);
        // The largest a PDF may have, or a size that cannot be read: still within bounds.
        assert_eq!(render_dpi(Some("14400 x 14400 pts")), 18);
        assert_eq!(render_dpi(None), 18);
        assert_eq!(render_dpi(Some("nonsense")), 18);
    }
}
