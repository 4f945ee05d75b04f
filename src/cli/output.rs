//! Rendering for people: colours (off when piped or with `NO_COLOR`),
//! aligned tables that fit the terminal, wrapped lists, sizes and times,
//! and a long answer written in one go.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub const NAME: Style = Style::new().bold();
pub const VERSION: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const REPO: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Magenta)));
pub const MARK: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)))
    .bold();
pub const HEADER: Style = Style::new().dimmed();
pub const LABEL: Style = Style::new().bold();
pub const WARN: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();
pub const ERROR: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const DIM: Style = Style::new().dimmed();

/// The terminal's width when stdout is a terminal (`COLUMNS` wins), else `None`.
pub fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(cols);
    }
    terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .or(Some(80))
}

/// Cuts `s` to at most `width` columns, ending in `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// One cell: its text and its style.
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn new(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }

    pub fn plain(text: impl Into<String>) -> Cell {
        Cell::new(text, Style::new())
    }
}

/// A table whose last column takes the width that is left and is cut to
/// fit on a terminal. Columns other than the last are capped at `caps`.
pub struct Table {
    pub headers: Vec<&'static str>,
    pub caps: Vec<usize>,
    pub rows: Vec<Vec<Cell>>,
}

/// A command's whole answer for standard output, gathered in memory with
/// stdout's colour choice and written by `finish` in one go, where stdout
/// (line-buffered) makes a system call of every line. What is not
/// finished is not written: an error on the way out says so instead.
pub struct Answer(anstream::AutoStream<Vec<u8>>);

impl Answer {
    pub fn new() -> Answer {
        let choice = anstream::stdout().current_choice();
        Answer(anstream::AutoStream::new(
            Vec::with_capacity(16 << 10),
            choice,
        ))
    }

    /// Writes the answer on standard output.
    pub fn finish(self) -> std::io::Result<()> {
        write_stdout(&self.0.into_inner())
    }
}

/// Writes `bytes` on standard output in one go (as far as the pipe takes
/// them) and flushes it.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

impl Default for Answer {
    fn default() -> Answer {
        Answer::new()
    }
}

impl Write for Answer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Table {
    /// Prints the table on standard output in one write (see `Answer`).
    pub fn print_stdout(&self, width: Option<usize>) -> std::io::Result<()> {
        let mut answer = Answer::new();
        self.print(&mut answer, width)?;
        answer.finish()
    }

    pub fn print(&self, out: &mut impl Write, width: Option<usize>) -> std::io::Result<()> {
        let columns = self.headers.len();
        let show_header = width.is_some();
        let mut widths: Vec<usize> = vec![0; columns];
        for (i, w) in widths.iter_mut().enumerate() {
            let cells = self.rows.iter().map(|r| r[i].text.width());
            let header = if show_header {
                self.headers[i].width()
            } else {
                0
            };
            *w = cells.max().unwrap_or(0).max(header);
            if width.is_some() && i + 1 < columns {
                *w = (*w).min(self.caps.get(i).copied().unwrap_or(usize::MAX));
            }
        }
        // Drop trailing empty columns' padding.
        let last = columns - 1;
        if let Some(total) = width {
            let fixed: usize = widths[..last].iter().map(|w| w + 2).sum();
            widths[last] = total.saturating_sub(fixed).max(8).min(widths[last]);
        }
        let fit = |text: &str, w: usize| {
            if width.is_some() {
                truncate(text, w)
            } else {
                text.to_string()
            }
        };
        if show_header {
            let cells: Vec<Cell> = self.headers.iter().map(|h| Cell::new(*h, HEADER)).collect();
            write_row(out, &cells, &widths, &fit)?;
        }
        for row in &self.rows {
            write_row(out, row, &widths, &fit)?;
        }
        Ok(())
    }
}

fn write_row(
    out: &mut impl Write,
    cells: &[Cell],
    widths: &[usize],
    fit: &impl Fn(&str, usize) -> String,
) -> std::io::Result<()> {
    let mut line = String::new();
    let last_nonempty = cells.iter().rposition(|c| !c.text.is_empty()).unwrap_or(0);
    for (i, cell) in cells.iter().enumerate().take(last_nonempty + 1) {
        let text = fit(&cell.text, widths[i]);
        let pad = if i == last_nonempty {
            0
        } else {
            widths[i].saturating_sub(text.width()) + 2
        };
        line.push_str(&format!(
            "{}{text}{}",
            cell.style.render(),
            cell.style.render_reset()
        ));
        line.push_str(&" ".repeat(pad));
    }
    writeln!(out, "{line}")
}

/// `label : value` lines with aligned colons, pacman style; list values
/// wrap to the terminal width under the value column.
pub struct Fields {
    pub label_width: usize,
    pub width: Option<usize>,
}

impl Fields {
    pub fn line(&self, out: &mut impl Write, label: &str, value: &str) -> std::io::Result<()> {
        writeln!(
            out,
            "{}{label:<w$}{} : {value}",
            LABEL.render(),
            LABEL.render_reset(),
            w = self.label_width
        )
    }

    /// A list, items separated by two spaces, wrapped; `None` when empty.
    pub fn list(&self, out: &mut impl Write, label: &str, items: &[String]) -> std::io::Result<()> {
        if items.is_empty() {
            return self.line(out, label, "None");
        }
        let indent = self.label_width + 3;
        let avail = self.width.map(|w| w.saturating_sub(indent).max(20));
        let mut lines: Vec<String> = vec![String::new()];
        for item in items {
            let current = lines.last_mut().expect("never empty");
            let needed = if current.is_empty() {
                item.width()
            } else {
                current.width() + 2 + item.width()
            };
            if let Some(avail) = avail
                && !current.is_empty()
                && needed > avail
            {
                lines.push(item.clone());
            } else {
                if !current.is_empty() {
                    current.push_str("  ");
                }
                current.push_str(item);
            }
        }
        let joined = lines.join(&format!("\n{}", " ".repeat(indent)));
        self.line(out, label, &joined)
    }
}

/// `1.5 MiB`-style sizes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// An absolute UTC time and how long ago it was.
pub fn human_time(unix: u64, now: u64) -> String {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    let stamp = humantime::format_rfc3339_seconds(when).to_string();
    let stamp = stamp.replace('T', " ").replace('Z', " UTC");
    format!("{stamp} ({})", ago(now.saturating_sub(unix)))
}

fn ago(secs: u64) -> String {
    let (n, unit) = match secs {
        0..60 => return "just now".to_string(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_times_and_truncation() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.50 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.00 MiB");
        assert_eq!(ago(30), "just now");
        assert_eq!(ago(7200), "2 hours ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(human_time(0, 60), "1970-01-01 00:00:00 UTC (1 minute ago)");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn table_fits_width_and_wraps_lists() {
        let table = Table {
            headers: vec!["NAME", "DESCRIPTION"],
            caps: vec![10],
            rows: vec![vec![
                Cell::plain("vim"),
                Cell::plain("a very long description that will not fit"),
            ]],
        };
        let mut out = Vec::new();
        table.print(&mut out, Some(30)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let plain = text
            .replace("\x1b[1m", "")
            .replace("\x1b[4m", "")
            .replace("\x1b[0m", "");
        for line in plain.lines() {
            assert!(line.width() <= 30, "{line:?} is wider than 30");
        }
        assert!(plain.contains('…'));

        let mut out = Vec::new();
        table.print(&mut out, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a very long description that will not fit"));
        assert!(!text.contains("NAME"));

        let fields = Fields {
            label_width: 5,
            width: Some(20),
        };
        let mut out = Vec::new();
        fields
            .list(
                &mut out,
                "Deps",
                &["aaaaaa".into(), "bbbbbb".into(), "cccccc".into()],
            )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }
}
