//! What an uploaded file is, told from its bytes (never from its name or the type a client
//! declared), and whether an image's declared size is one a server should ever decode.

/// The kinds of file an attachment or a receipt may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Webp,
    /// HEIC/HEIF, the iPhone's photos: decoded by libheif's `heif-convert` for reading.
    Heic,
    Pdf,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Heic => "image/heic",
            FileKind::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Heic => "heic",
            FileKind::Pdf => "pdf",
        }
    }

    pub fn is_image(self) -> bool {
        self != FileKind::Pdf
    }
}

/// Why a file was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a JPEG, PNG, WebP or HEIC image or a PDF, by its first bytes")]
    Unknown,
    #[error("the image's header is unreadable: {0}")]
    BadHeader(String),
    #[error(
        "the image declares {width}x{height} pixels, over the {MAX_PIXELS} this server decodes"
    )]
    TooManyPixels { width: u32, height: u32 },
}

/// The most pixels an image may declare (a 12-megapixel phone photo is well under): a
/// decompression bomb declares billions in a few kilobytes.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side an image may declare.
pub const MAX_SIDE: u32 = 20_000;
/// How many times longer than wide (or wider than long) an image may be.
pub const MAX_ASPECT: u32 = 30;

/// The kind of file `bytes` are, by their magic numbers.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileKind::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(FileKind::Webp);
    }
    // A PDF's header may follow up to 1,024 bytes of anything, by the specification's own
    // allowance for what some writers put first.
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Ok(FileKind::Heic);
        }
    }
    Err(Refusal::Unknown)
}

/// The size a HEIF file declares for its largest image (its `ispe` boxes: the primary image,
/// a grid's whole, its tiles and thumbnails), read without decoding anything.
pub fn heif_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    bytes
        .windows(4)
        .enumerate()
        .filter(|(at, w)| *w == b"ispe" && *at >= 4 && word(at - 4).is_some_and(|size| size >= 20))
        .filter_map(|(at, _)| Some((word(at + 8)?, word(at + 12)?)))
        .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h))
}

/// Checks what an image declares about its size, reading only its header.
pub fn check_dimensions(width: u32, height: u32) -> Result<(), Refusal> {
    if width == 0 || height == 0 {
        return Err(Refusal::BadHeader("the image has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels { width, height });
    }
    // A metre of till roll is 12 times longer than wide: a strip of 30 or more is no photo,
    // and enlarging it for OCR would make it enormous.
    if width.max(height) / width.min(height) >= MAX_ASPECT {
        return Err(Refusal::BadHeader(format!(
            "the image is {width}x{height} pixels: one side is {MAX_ASPECT} or more times the other"
        )));
    }
    Ok(())
}

/// A file name a client sent, made safe to keep and to send back in a
/// `Content-Disposition` header: the last path component, printable characters only,
/// at most 255 bytes.
pub fn clean_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return None;
    }
    let mut end = cleaned.len().min(255);
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    Some(cleaned[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(FileKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(FileKind::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(FileKind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(FileKind::Pdf));
        assert_eq!(sniff(b"\xEF\xBB\xBF junk %PDF-1.4"), Ok(FileKind::Pdf));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Ok(FileKind::Heic));
        assert_eq!(sniff(b"GIF89a......"), Err(Refusal::Unknown));
        assert_eq!(sniff(b"<html>"), Err(Refusal::Unknown));
        assert_eq!(sniff(b""), Err(Refusal::Empty));
    }

    #[test]
    fn a_heif_file_declares_its_largest_image_in_ispe_boxes() {
        let ispe = |w: u32, h: u32| {
            let mut b = 20u32.to_be_bytes().to_vec();
            b.extend_from_slice(b"ispe\0\0\0\0");
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&h.to_be_bytes());
            b
        };
        let mut file = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        file.extend(ispe(320, 240));
        file.extend(ispe(4032, 3024));
        assert_eq!(heif_dimensions(&file), Some((4032, 3024)));
        assert_eq!(heif_dimensions(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
        // Cut short after the box's name: no size read past the end.
        assert_eq!(heif_dimensions(&ispe(1, 1)[..12]), None);
    }

    #[test]
    fn bombs_are_told_by_their_declared_size() {
        assert!(check_dimensions(4032, 3024).is_ok());
        assert!(matches!(
            check_dimensions(100_000, 100_000),
            Err(Refusal::TooManyPixels { .. })
        ));
        assert!(matches!(
            check_dimensions(7000, 7000),
            Err(Refusal::TooManyPixels { .. })
        ));
        assert!(matches!(
            check_dimensions(30_000, 10),
            Err(Refusal::TooManyPixels { .. })
        ));
        assert!(check_dimensions(0, 10).is_err());
        assert!(check_dimensions(1, 20_000).is_err());
        assert!(check_dimensions(640, 8_000).is_ok());
    }

    #[test]
    fn names_lose_their_paths_and_controls() {
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_file_name("C:\\photos\\re\"ceipt\r\n.jpg").as_deref(),
            Some("receipt.jpg")
        );
        assert_eq!(clean_file_name("..").as_deref(), None);
        assert_eq!(clean_file_name("  ").as_deref(), None);
        assert_eq!(
            clean_file_name(&"é".repeat(200)).map(|n| n.len()),
            Some(254)
        );
    }
}
