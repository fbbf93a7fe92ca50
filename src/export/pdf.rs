//! A report's document as a PDF (A4, written with pdf-writer): its title and period, key
//! figures, a chart (bars or a pie) drawn as vector paths, and its table, continued over as many
//! pages as it needs with the header repeated, and "Page i of n" on each.
//!
//! Text is set in DejaVu Sans (vendored in `assets/fonts`, its licence beside it), embedded as a
//! subset of the glyphs used, with a ToUnicode map so the text can be searched and copied
//! (`pdftotext` reads the figures back). DejaVu covers Vietnamese, so category names in any
//! language a user writes print as written.

use std::collections::BTreeMap;
use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::{Cell, ChartKind, Document, Locale};

/// The MIME type of a PDF.
pub const CONTENT_TYPE: &str = "application/pdf";

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const ROW_HEIGHT: f32 = 15.0;
const TABLE_SIZE: f32 = 8.5;
const CHART_HEIGHT: f32 = 210.0;
/// The most slices a pie shows; the rest are one "Other" slice.
const PIE_SLICES: usize = 8;

/// Series colours (a colour-blind-safe palette, Okabe and Ito's).
const COLOURS: [(f32, f32, f32); 8] = [
    (0.0, 0.447, 0.698),
    (0.835, 0.369, 0.0),
    (0.0, 0.620, 0.451),
    (0.800, 0.475, 0.655),
    (0.941, 0.894, 0.259),
    (0.337, 0.706, 0.914),
    (0.902, 0.624, 0.0),
    (0.6, 0.6, 0.6),
];

/// Why a PDF could not be made (a font that does not parse: a build fault, not a user's).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the PDF: {0}")]
pub struct PdfError(String);

/// One embedded font: the glyphs used so far (renumbered for the subset) and their text.
struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    remapper: subsetter::GlyphRemapper,
    /// New glyph id → the text it stands for (for the ToUnicode map) and its width.
    used: BTreeMap<u16, (char, f32)>,
    resource: &'static [u8],
    postscript_name: &'static [u8],
}

impl Font {
    fn new(
        data: &'static [u8],
        resource: &'static [u8],
        postscript_name: &'static [u8],
    ) -> Result<Font, PdfError> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| PdfError(format!("font: {e}")))?;
        Ok(Font {
            data,
            face,
            remapper: subsetter::GlyphRemapper::new(),
            used: BTreeMap::new(),
            resource,
            postscript_name,
        })
    }

    fn scale(&self) -> f32 {
        1000.0 / f32::from(self.face.units_per_em())
    }

    /// The width of a text at a size, in points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map_or(500.0, |a| f32::from(a) * self.scale())
            })
            .sum();
        units * size / 1000.0
    }

    /// The text as two-byte glyph ids of the subset (Identity-H), noting each glyph used.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
            let new = self.remapper.remap(glyph.0);
            let width = self
                .face
                .glyph_hor_advance(glyph)
                .map_or(0.0, |a| f32::from(a) * self.scale());
            self.used.entry(new).or_insert((c, width));
            bytes.extend_from_slice(&new.to_be_bytes());
        }
        bytes
    }

    /// A text cut to fit a width, with an ellipsis where it was cut.
    fn fit(&self, text: &str, size: f32, width: f32) -> String {
        if self.width(text, size) <= width {
            return text.to_owned();
        }
        let mut cut: String = text.to_owned();
        while !cut.is_empty() && self.width(&format!("{cut}…"), size) > width {
            cut.pop();
        }
        format!("{cut}…")
    }

    /// Writes the font's objects (Type0, CID font, descriptor, subset file, ToUnicode).
    fn write(&self, pdf: &mut Pdf, next: &mut Ref, type0: Ref) -> Result<(), PdfError> {
        let cid = next.bump();
        let descriptor = next.bump();
        let file = next.bump();
        let cmap_ref = next.bump();
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(type0)
            .base_font(Name(self.postscript_name))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap_ref);
        let mut font = pdf.cid_font(cid);
        font.subtype(CidFontType::Type2)
            .base_font(Name(self.postscript_name))
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        {
            let mut widths = font.widths();
            for (gid, (_, width)) in &self.used {
                widths.consecutive(*gid, [*width]);
            }
        }
        font.finish();
        let scale = self.scale();
        let bbox = self.face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(Name(self.postscript_name))
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(self.face.ascender()) * scale)
            .descent(f32::from(self.face.descender()) * scale)
            .cap_height(f32::from(self.face.capital_height().unwrap_or(700)) * scale)
            .stem_v(80.0)
            .font_file2(file);
        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| PdfError(format!("font subset: {e:?}")))?;
        pdf.stream(file, &deflate(&subset))
            .filter(Filter::FlateDecode);
        let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system);
        for (gid, (c, _)) in &self.used {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(cmap_ref, &cmap.finish());
        Ok(())
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// A page being drawn: its content stream and the fonts' state.
struct Painter<'f> {
    content: Content,
    regular: &'f mut Font,
    bold: &'f mut Font,
}

impl Painter<'_> {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let font = if bold {
            &mut *self.bold
        } else {
            &mut *self.regular
        };
        let encoded = font.encode(text);
        self.content
            .begin_text()
            .set_font(Name(font.resource), size)
            .next_line(x, y)
            .show(Str(&encoded))
            .end_text();
    }

    /// Text ending at `right`.
    fn text_right(&mut self, right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let width = if bold {
            self.bold.width(text, size)
        } else {
            self.regular.width(text, size)
        };
        self.text(right - width, y, size, bold, text);
    }

    fn fill(&mut self, colour: (f32, f32, f32)) {
        self.content.set_fill_rgb(colour.0, colour.1, colour.2);
    }

    fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, colour: (f32, f32, f32)) {
        self.fill(colour);
        self.content.rect(x, y, width, height).fill_nonzero();
        self.fill((0.0, 0.0, 0.0));
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32), grey: f32) {
        self.content
            .set_stroke_rgb(grey, grey, grey)
            .set_line_width(0.5)
            .move_to(from.0, from.1)
            .line_to(to.0, to.1)
            .stroke();
    }
}

fn as_f32(value: Decimal) -> f32 {
    value.to_f32().unwrap_or(0.0)
}

/// A cell as printed.
fn print(cell: &Cell, locale: &Locale, currency: &str) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Money(amount) => locale.money(*amount, currency),
        Cell::Amount(amount, currency) => locale.money(*amount, currency),
        Cell::Percent(value) => locale.percent(*value),
        Cell::Count(n) => locale.number(Decimal::from(*n), 0),
        Cell::Date(date) => locale.date(*date),
        Cell::Empty => String::new(),
    }
}

/// An amount in the report's currency without its code (`1.234.500`), for a column too narrow
/// for the code. An amount in another currency keeps its code: nothing else on the page says it.
fn bare(cell: &Cell, locale: &Locale, currency: &str) -> Option<String> {
    match cell {
        Cell::Money(amount) => Some(locale.amount(*amount, currency)),
        Cell::Amount(amount, own) if own == currency => Some(locale.amount(*amount, own)),
        _ => None,
    }
}

/// Room for a cell or header beside its text.
const CELL_PADDING: f32 = 8.0;

/// Each column's left and right. A column after the first is as wide as its widest cell (as
/// printed, a foreign amount with its code) or header word, at most a third of the page; the
/// first (names) takes the rest, at least a fifth of the width. When that does not fit, amounts
/// in the report's currency are measured without their code, then the others shrink in
/// proportion and their cells shrink with them.
fn column_bounds(
    document: &Document,
    locale: &Locale,
    regular: &Font,
    bold: &Font,
    width: f32,
) -> Vec<(f32, f32)> {
    let columns = document.columns.len().max(1);
    if columns == 1 {
        return vec![(MARGIN, MARGIN + width)];
    }
    // With `bare`, a report-currency amount is measured without its code, as it prints when
    // its column is narrow.
    let needs_of = |bare_ok: bool| -> Vec<f32> {
        (1..columns)
            .map(|i| {
                let header = document
                    .columns
                    .get(i)
                    .map(|name| {
                        name.split(' ')
                            .map(|word| bold.width(word, TABLE_SIZE))
                            .fold(0.0, f32::max)
                    })
                    .unwrap_or(0.0);
                let cells = document
                    .rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| {
                        let text = match bare(cell, locale, &document.currency) {
                            Some(bare) if bare_ok => bare,
                            _ => print(cell, locale, &document.currency),
                        };
                        regular.width(&text, TABLE_SIZE)
                    })
                    .fold(0.0, f32::max);
                // A point of slack: a cell as wide as its room must not count as wider.
                (header.max(cells) + CELL_PADDING + 1.0).clamp(40.0, width / 3.0)
            })
            .collect()
    };
    let room = width * 0.8;
    let mut needs = needs_of(false);
    if needs.iter().sum::<f32>() > room {
        needs = needs_of(true);
    }
    let total: f32 = needs.iter().sum();
    if total > room {
        needs.iter_mut().for_each(|need| *need *= room / total);
    }
    let first = width - needs.iter().sum::<f32>();
    let mut bounds = vec![(MARGIN, MARGIN + first)];
    let mut left = MARGIN + first;
    for need in needs {
        bounds.push((left, left + need));
        left += need;
    }
    bounds
}

/// A header's lines: one when it fits, else its words over two lines (the second holding the
/// rest); a word wider than the room still shows whole, as the column was sized for it.
fn wrap_header(font: &Font, name: &str, room: f32) -> Vec<String> {
    if font.width(name, TABLE_SIZE) <= room || !name.contains(' ') {
        return vec![name.to_owned()];
    }
    let words: Vec<&str> = name.split(' ').collect();
    // The longest first line that fits, at least one word.
    let mut split = 1;
    while split < words.len() - 1 && font.width(&words[..=split].join(" "), TABLE_SIZE) <= room {
        split += 1;
    }
    vec![words[..split].join(" "), words[split..].join(" ")]
}

/// Renders the document.
pub fn render(document: &Document, locale: &Locale) -> Result<Vec<u8>, PdfError> {
    let mut regular = Font::new(REGULAR, b"F1", b"DejaVuSans")?;
    let mut bold = Font::new(BOLD, b"F2", b"DejaVuSans-Bold")?;
    let width = PAGE_WIDTH - 2.0 * MARGIN;
    let columns = document.columns.len().max(1);
    let column_x = column_bounds(document, locale, &regular, &bold, width);
    // A header wider than its column wraps onto a second line at its spaces.
    let headers: Vec<Vec<String>> = (0..columns)
        .map(|i| {
            let name = document.columns.get(i).map(String::as_str).unwrap_or("");
            let (left, right) = column_x[i];
            wrap_header(&bold, name, right - left - 8.0)
        })
        .collect();
    let header_lines = headers.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let header_height = ROW_HEIGHT + (header_lines - 1) as f32 * (TABLE_SIZE + 2.0);
    let numeric: Vec<bool> = (0..columns)
        .map(|i| {
            document
                .rows
                .iter()
                .any(|row| row.get(i).is_some_and(Cell::is_numeric))
        })
        .collect();

    // Lay out: what goes above the table on page 1, then how many rows fit on each page.
    let facts_height = (document.facts.len() as f32 / 2.0).ceil() * 16.0;
    let chart_height = if document.chart.is_some() && !document.rows.is_empty() {
        CHART_HEIGHT + 20.0
    } else {
        0.0
    };
    let top = PAGE_HEIGHT - MARGIN;
    let first_table_top = top - 52.0 - facts_height - chart_height - 10.0;
    let bottom = MARGIN + 24.0;
    let rows_on = |table_top: f32| {
        (((table_top - header_height - bottom) / ROW_HEIGHT).floor() as usize).max(1)
    };
    let mut pages: Vec<(f32, std::ops::Range<usize>)> = Vec::new();
    let mut start = 0;
    let mut table_top = first_table_top;
    loop {
        let end = (start + rows_on(table_top)).min(document.rows.len());
        pages.push((table_top, start..end));
        start = end;
        table_top = top;
        if start >= document.rows.len() {
            break;
        }
    }
    let page_count = pages.len();

    let mut contents = Vec::with_capacity(page_count);
    for (number, (table_top, range)) in pages.into_iter().enumerate() {
        let mut painter = Painter {
            content: Content::new(),
            regular: &mut regular,
            bold: &mut bold,
        };
        if number == 0 {
            painter.text(MARGIN, top - 18.0, 18.0, true, &document.title);
            let period = format!(
                "{} – {} · {}",
                locale.date(document.from),
                locale.date(document.to),
                document.currency
            );
            painter.text(MARGIN, top - 36.0, 10.0, false, &period);
            let mut y = top - 58.0;
            for pair in document.facts.chunks(2) {
                for (i, (label, value)) in pair.iter().enumerate() {
                    let x = MARGIN + i as f32 * width / 2.0;
                    let value = print(value, locale, &document.currency);
                    let room = width / 2.0 - 24.0 - painter.bold.width(&value, 9.0);
                    let label = painter.regular.fit(label, 9.0, room.max(20.0));
                    painter.text(x, y, 9.0, false, &label);
                    painter.text_right(x + width / 2.0 - 12.0, y, 9.0, true, &value);
                }
                y -= 16.0;
            }
            if let (Some(chart), true) = (&document.chart, chart_height > 0.0) {
                let chart_top = top - 52.0 - facts_height - 6.0;
                draw_chart(&mut painter, chart, locale, chart_top, width);
            }
        }
        // The table: header, then rows, with a light rule under each.
        let mut y = table_top - ROW_HEIGHT;
        painter.rect(
            MARGIN,
            table_top - header_height - 4.0,
            width,
            header_height,
            (0.87, 0.9, 0.94),
        );
        for (i, lines) in headers.iter().enumerate() {
            let (left, right) = column_x[i];
            for (n, line) in lines.iter().enumerate() {
                let line_y = y - n as f32 * (TABLE_SIZE + 2.0);
                if numeric[i] {
                    painter.text_right(right - 4.0, line_y, TABLE_SIZE, true, line);
                } else {
                    painter.text(left + 4.0, line_y, TABLE_SIZE, true, line);
                }
            }
        }
        y -= header_height - ROW_HEIGHT;
        for row in &document.rows[range] {
            y -= ROW_HEIGHT;
            for (i, cell) in row.iter().enumerate().take(columns) {
                let (left, right) = column_x[i];
                let text = print(cell, locale, &document.currency);
                if cell.is_numeric() || matches!(cell, Cell::Date(_)) {
                    // A number wider than its column loses the report's currency code (the
                    // period line names it; another currency's code stays), then it (or a
                    // date) shrinks until it fits: never cut.
                    let room = right - left - 8.0;
                    let text = if painter.regular.width(&text, TABLE_SIZE) > room {
                        bare(cell, locale, &document.currency).unwrap_or(text)
                    } else {
                        text
                    };
                    let width = painter.regular.width(&text, TABLE_SIZE);
                    let size = if width > room {
                        (TABLE_SIZE * room / width).max(4.0)
                    } else {
                        TABLE_SIZE
                    };
                    painter.text_right(right - 4.0, y, size, false, &text);
                } else {
                    let text = painter.regular.fit(&text, TABLE_SIZE, right - left - 8.0);
                    painter.text(left + 4.0, y, TABLE_SIZE, false, &text);
                }
            }
            painter.line((MARGIN, y - 4.0), (MARGIN + width, y - 4.0), 0.85);
        }
        if document.rows.is_empty() {
            painter.text(
                MARGIN + 4.0,
                y - ROW_HEIGHT,
                TABLE_SIZE,
                false,
                "Nothing in this period.",
            );
        }
        painter.line(
            (MARGIN, MARGIN + 12.0),
            (MARGIN + width, MARGIN + 12.0),
            0.7,
        );
        painter.text(MARGIN, MARGIN, 8.0, false, "FinAI");
        painter.text_right(
            MARGIN + width,
            MARGIN,
            8.0,
            false,
            &format!("Page {} of {page_count}", number + 1),
        );
        contents.push(painter.content.finish());
    }

    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let info = next.bump();
    let regular_ref = next.bump();
    let bold_ref = next.bump();
    let page_refs: Vec<(Ref, Ref)> = (0..page_count)
        .map(|_| (next.bump(), next.bump()))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(page_count as i32);
    pdf.document_info(info)
        .title(pdf_writer::TextStr(&document.title))
        .producer(pdf_writer::TextStr("FinAI"));
    for ((page_ref, content_ref), content) in page_refs.iter().zip(contents) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree)
            .contents(*content_ref);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular_ref)
            .pair(Name(b"F2"), bold_ref);
        page.finish();
        pdf.stream(*content_ref, &deflate(&content))
            .filter(Filter::FlateDecode);
    }
    regular.write(&mut pdf, &mut next, regular_ref)?;
    bold.write(&mut pdf, &mut next, bold_ref)?;
    Ok(pdf.finish())
}

/// Draws the chart in a band of the page below `top`.
fn draw_chart(
    painter: &mut Painter<'_>,
    chart: &super::Chart,
    locale: &Locale,
    top: f32,
    width: f32,
) {
    let bottom = top - CHART_HEIGHT;
    match chart.kind {
        ChartKind::Pie => draw_pie(painter, chart, locale, top, bottom, width),
        ChartKind::Bars => draw_bars(painter, chart, locale, top, bottom, width),
    }
}

fn draw_bars(
    painter: &mut Painter<'_>,
    chart: &super::Chart,
    locale: &Locale,
    top: f32,
    bottom: f32,
    width: f32,
) {
    let values = chart.series.iter().flat_map(|s| s.values.iter().copied());
    let (low, high) = values.fold((Decimal::ZERO, Decimal::ZERO), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let span = as_f32(high - low).max(f32::EPSILON);
    let legend = 14.0;
    let axis_left = MARGIN + 58.0;
    let plot_bottom = bottom + 18.0;
    let plot_top = top - legend - 4.0;
    let plot_height = plot_top - plot_bottom;
    let y_of = |v: Decimal| plot_bottom + as_f32(v - low) / span * plot_height;
    // Legend.
    let mut x = axis_left;
    for (i, series) in chart.series.iter().enumerate() {
        painter.rect(x, top - 10.0, 8.0, 8.0, COLOURS[i % COLOURS.len()]);
        painter.text(x + 11.0, top - 9.5, 8.0, false, &series.name);
        x += 20.0 + painter.regular.width(&series.name, 8.0);
    }
    // Axis: the top, zero and bottom values.
    for value in [high, Decimal::ZERO, low] {
        let y = y_of(value);
        painter.line(
            (axis_left, y),
            (MARGIN + width, y),
            if value.is_zero() { 0.4 } else { 0.85 },
        );
        painter.text_right(
            axis_left - 4.0,
            y - 3.0,
            7.0,
            false,
            &locale.number(value, 0),
        );
        if low.is_zero() && value.is_zero() {
            break;
        }
    }
    let count = chart.labels.len().max(1);
    let slot = (MARGIN + width - axis_left) / count as f32;
    let bar = (slot * 0.8 / chart.series.len().max(1) as f32).max(0.3);
    let label_every = ((count as f32 * 40.0 / (MARGIN + width - axis_left)).ceil() as usize).max(1);
    let zero = y_of(Decimal::ZERO);
    for (i, label) in chart.labels.iter().enumerate() {
        let left = axis_left + slot * i as f32 + slot * 0.1;
        for (s, series) in chart.series.iter().enumerate() {
            let value = series.values.get(i).copied().unwrap_or_default();
            let y = y_of(value);
            let (from, to) = if y >= zero { (zero, y) } else { (y, zero) };
            if to - from > 0.0 {
                painter.rect(
                    left + bar * s as f32,
                    from,
                    bar,
                    to - from,
                    COLOURS[s % COLOURS.len()],
                );
            }
        }
        if i % label_every == 0 {
            let text = painter
                .regular
                .fit(label, 6.5, slot * label_every as f32 - 2.0);
            painter.text(left, bottom + 6.0, 6.5, false, &text);
        }
    }
}

fn draw_pie(
    painter: &mut Painter<'_>,
    chart: &super::Chart,
    locale: &Locale,
    top: f32,
    bottom: f32,
    width: f32,
) {
    let Some(series) = chart.series.first() else {
        return;
    };
    let total: Decimal = series.values.iter().filter(|v| **v > Decimal::ZERO).sum();
    if total <= Decimal::ZERO {
        return;
    }
    // (label, value, share): the share the table prints where the chart carries it.
    let mut slices: Vec<(String, Decimal, Decimal)> = chart
        .labels
        .iter()
        .cloned()
        .zip(series.values.iter().copied())
        .enumerate()
        .filter(|(_, (_, v))| *v > Decimal::ZERO)
        .map(|(i, (label, value))| {
            let share = chart
                .shares
                .get(i)
                .copied()
                .unwrap_or(value * Decimal::ONE_HUNDRED / total);
            (label, value, share)
        })
        .collect();
    slices.sort_by_key(|s| std::cmp::Reverse(s.1));
    if slices.len() > PIE_SLICES {
        let rest = &slices[PIE_SLICES - 1..];
        let other = (
            "Other".to_owned(),
            rest.iter().map(|s| s.1).sum(),
            rest.iter().map(|s| s.2).sum(),
        );
        slices.truncate(PIE_SLICES - 1);
        slices.push(other);
    }
    let radius = (top - bottom) / 2.0 - 6.0;
    let (cx, cy) = (MARGIN + radius + 10.0, (top + bottom) / 2.0);
    let mut angle = std::f32::consts::FRAC_PI_2;
    let legend_x = cx + radius + 30.0;
    let mut legend_y = top - 14.0;
    for (i, (label, value, share)) in slices.iter().enumerate() {
        let sweep = as_f32(*value / total) * std::f32::consts::TAU;
        let colour = COLOURS[i % COLOURS.len()];
        painter.fill(colour);
        wedge(&mut painter.content, (cx, cy), radius, angle, angle - sweep);
        painter.content.fill_nonzero();
        painter.fill((0.0, 0.0, 0.0));
        angle -= sweep;
        painter.rect(legend_x, legend_y, 8.0, 8.0, colour);
        let share = locale.percent(*share);
        let name = painter
            .regular
            .fit(label, 8.5, MARGIN + width - legend_x - 80.0);
        painter.text(legend_x + 12.0, legend_y + 0.5, 8.5, false, &name);
        painter.text_right(MARGIN + width, legend_y + 0.5, 8.5, false, &share);
        legend_y -= 16.0;
    }
}

/// A pie wedge from angle `from` clockwise to `to` (radians), as cubic Bézier arcs of at most a
/// quarter turn each.
fn wedge(content: &mut Content, centre: (f32, f32), radius: f32, from: f32, to: f32) {
    let (cx, cy) = centre;
    content.move_to(cx, cy);
    content.line_to(cx + radius * from.cos(), cy + radius * from.sin());
    let parts = ((from - to).abs() / std::f32::consts::FRAC_PI_2)
        .ceil()
        .max(1.0) as usize;
    let step = (to - from) / parts as f32;
    for part in 0..parts {
        let a = from + step * part as f32;
        let b = a + step;
        let k = 4.0 / 3.0 * ((b - a) / 4.0).tan();
        let (ax, ay) = (a.cos(), a.sin());
        let (bx, by) = (b.cos(), b.sin());
        content.cubic_to(
            cx + radius * (ax - k * ay),
            cy + radius * (ay + k * ax),
            cx + radius * (bx + k * by),
            cy + radius * (by - k * bx),
            cx + radius * bx,
            cy + radius * by,
        );
    }
    content.close_path();
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn document(rows: usize) -> Document {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut document = Document::new("Spending by category", day, day, "VND")
            .columns(&["Category", "Amount", "Share"]);
        document
            .facts
            .push(("Total".into(), Cell::Money(Decimal::new(1_234_500, 0))));
        document.rows = (0..rows)
            .map(|i| {
                vec![
                    Cell::Text(format!("Ăn uống {i}")),
                    Cell::Money(Decimal::new(1000 * (i as i64 + 1), 0)),
                    Cell::Percent(Decimal::new(125, 1)),
                ]
            })
            .collect();
        document.chart_of(ChartKind::Pie, 0, &[1])
    }

    #[test]
    fn a_pdf_is_a_pdf_with_one_page_per_screenful_of_rows() {
        let bytes = render(&document(3), &Locale::of("vi")).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(5).any(|w| w == b"%%EOF"));
        let pages = |b: &[u8]| b.windows(10).filter(|w| w == b"/Type /Pag").count();
        let long = render(&document(200), &Locale::of("en")).expect("pdf");
        // "/Type /Pages" once, "/Type /Page" once per page.
        assert!(
            pages(&long) >= pages(&bytes) + 3,
            "{} {}",
            pages(&long),
            pages(&bytes)
        );
        // The subset is small: a few glyphs of a 700 KiB font.
        assert!(bytes.len() < 120_000, "{}", bytes.len());
    }

    /// A budget-progress table in USD with a VND budget's row.
    fn budgets(rows: usize) -> Document {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut document = Document::new("Budget progress", day, day, "USD").columns(&[
            "Budget",
            "Period end",
            "Budget amount",
            "Rolled over",
            "Spent",
            "Remaining",
            "Used",
        ]);
        let vnd = |v: i64| Cell::Amount(Decimal::new(v, 0), "VND".into());
        document.rows = (0..rows)
            .map(|_| {
                vec![
                    Cell::Text("Ăn uống".into()),
                    Cell::Date(day),
                    vnd(3_000_000),
                    vnd(-250_000),
                    vnd(1_234_500),
                    vnd(1_515_500),
                    Cell::Percent(Decimal::new(4115, 2)),
                ]
            })
            .collect();
        document
    }

    #[test]
    fn columns_hold_their_dates_amounts_and_header_words() {
        let regular = Font::new(REGULAR, b"F1", b"DejaVuSans").unwrap();
        let bold = Font::new(BOLD, b"F2", b"DejaVuSans-Bold").unwrap();
        let locale = Locale::of("en-US");
        let width = PAGE_WIDTH - 2.0 * MARGIN;
        for document in [budgets(2), budgets(0)] {
            let bounds = column_bounds(&document, &locale, &regular, &bold, width);
            assert_eq!(bounds.len(), 7);
            assert!((bounds[6].1 - (MARGIN + width)).abs() < 0.01, "{bounds:?}");
            for (i, (left, right)) in bounds.iter().enumerate().skip(1) {
                let room = right - left - CELL_PADDING;
                for word in document.columns[i].split(' ') {
                    assert!(bold.width(word, TABLE_SIZE) <= room + 0.01, "{word}");
                }
                for row in &document.rows {
                    // Printed whole, a foreign amount with its code.
                    let text = print(&row[i], &locale, "USD");
                    let need = regular.width(&text, TABLE_SIZE);
                    assert!(need <= room + 0.01, "{text} {need} {room} {bounds:?}");
                }
            }
            assert!(bounds[0].1 - bounds[0].0 >= width / 5.0 - 0.01);
        }
        let amount = Cell::Amount(Decimal::new(1_234_500, 0), "VND".into());
        assert_eq!(print(&amount, &locale, "USD"), "1,234,500 VND");
        assert_eq!(
            bare(&amount, &locale, "USD"),
            None,
            "another currency keeps its code"
        );
        assert_eq!(bare(&amount, &locale, "VND").unwrap(), "1,234,500");
        assert_eq!(
            wrap_header(&bold, "Budget amount", 40.0),
            ["Budget", "amount"]
        );
        assert_eq!(wrap_header(&bold, "Spent", 40.0), ["Spent"]);
        assert!(render(&budgets(2), &locale).is_ok());
        assert!(render(&budgets(0), &locale).is_ok());
    }
}
