//! Status-bar modules: the status file as waybar (one JSON object per
//! line), i3blocks (full text, short text, colour; exit 33 marks it
//! urgent) and polybar (one line with colour tags) want it.

use omg_status::{self as status, Status};

/// The four states a bar tells apart, most pressing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Updates that fix known vulnerabilities are pending.
    Security,
    /// Updates are pending.
    Updates,
    /// The counts are old (or were never refreshed, or the last refresh
    /// failed): the machine may be behind without knowing.
    Stale,
    UpToDate,
}

impl State {
    pub fn of(status: &Status, stale: bool) -> State {
        let total = u32::from(status.updates) + u32::from(status.foreign_updates);
        if status.security_updates > 0 {
            State::Security
        } else if total > 0 {
            State::Updates
        } else if stale || status.has(status::FLAG_REFRESH_FAILED) {
            State::Stale
        } else {
            State::UpToDate
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            State::Security => "security",
            State::Updates => "updates",
            State::Stale => "stale",
            State::UpToDate => "up-to-date",
        }
    }

    /// The colour i3blocks and polybar draw it in (none: the bar's own).
    fn colour(self) -> Option<&'static str> {
        match self {
            State::Security => Some("#e06c75"),
            State::Updates => Some("#e5c07b"),
            State::Stale => Some("#7f848e"),
            State::UpToDate => None,
        }
    }
}

/// What a bar shows, whatever its format.
pub struct Shown {
    pub state: State,
    /// The pending updates, from the repositories and elsewhere.
    pub total: u32,
    /// Short: the pending updates, `?` when stale, a reboot glyph.
    pub text: String,
    /// Long: the counts and the age of the last refresh, one per line.
    pub tooltip: String,
}

pub fn shown(status: &Status, age: u64, stale: bool) -> Shown {
    let total = u32::from(status.updates) + u32::from(status.foreign_updates);
    let mark = if stale { "?" } else { "" };
    let mut text = format!("{total}{mark}");
    if status.has(status::FLAG_REBOOT_NEEDED) {
        text.push_str(" ⟳");
    }
    let mut lines = vec![match total {
        0 => "up to date".to_string(),
        1 => "1 update".to_string(),
        n => format!("{n} updates"),
    }];
    if status.security_updates > 0 {
        lines.push(format!(
            "{} fix known vulnerabilities",
            status.security_updates
        ));
    }
    if status.foreign_updates > 0 {
        lines.push(format!(
            "{} from the AUR or runtimes",
            status.foreign_updates
        ));
    }
    if status.vulnerabilities > 0 {
        lines.push(format!(
            "{} installed with known vulnerabilities",
            status.vulnerabilities
        ));
    }
    if status.has(status::FLAG_REBOOT_NEEDED) {
        lines.push("reboot needed".to_string());
    }
    if status.has(status::FLAG_REFRESH_FAILED) {
        lines.push("the last refresh failed".to_string());
    }
    lines.push(if status.last_refresh == 0 {
        "never refreshed".to_string()
    } else {
        format!("refreshed {} ago", human_age(age))
    });
    Shown {
        state: State::of(status, stale),
        total,
        text,
        tooltip: lines.join("\n"),
    }
}

fn human_age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// A JSON string literal.
fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The bar formats `--format` names.
pub fn render(format: &str, shown: &Shown) -> Option<String> {
    let class = shown.state.class();
    Some(match format {
        "waybar" => format!(
            "{{\"text\":{},\"alt\":{},\"tooltip\":{},\"class\":{}}}",
            json(&shown.text),
            json(class),
            json(&shown.tooltip),
            json(class)
        ),
        "i3blocks" => format!(
            "{}\n{}\n{}",
            shown.text,
            shown.total,
            shown.state.colour().unwrap_or("")
        ),
        "polybar" => match shown.state.colour() {
            Some(colour) => format!("%{{F{colour}}}{}%{{F-}}", shown.text),
            None => shown.text.clone(),
        },
        _ => return None,
    })
}

/// i3blocks marks a block urgent when its command exits 33.
pub fn exit_code(format: &str, shown: &Shown) -> i32 {
    if format == "i3blocks" && shown.state == State::Security {
        33
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(updates: u16, security: u16, flags: u16) -> Status {
        Status {
            updates,
            foreign_updates: 1,
            vulnerabilities: 2,
            flags,
            last_refresh: 1,
            security_updates: security,
            config_merges: 0,
        }
    }

    #[test]
    fn each_state_has_its_class_text_and_colour() {
        let s = shown(&status(3, 1, 0), 7200, false);
        assert_eq!(s.state, State::Security);
        assert_eq!(s.text, "4");
        assert_eq!(
            s.tooltip,
            "4 updates\n1 fix known vulnerabilities\n1 from the AUR or runtimes\n2 installed with known vulnerabilities\nrefreshed 2 h ago"
        );
        assert_eq!(
            render("waybar", &s).unwrap(),
            "{\"text\":\"4\",\"alt\":\"security\",\"tooltip\":\"4 updates\\n1 fix known vulnerabilities\\n1 from the AUR or runtimes\\n2 installed with known vulnerabilities\\nrefreshed 2 h ago\",\"class\":\"security\"}"
        );
        assert_eq!(render("i3blocks", &s).unwrap(), "4\n4\n#e06c75");
        assert_eq!(exit_code("i3blocks", &s), 33);
        assert_eq!(render("polybar", &s).unwrap(), "%{F#e06c75}4%{F-}");
        let stale = shown(&status(0, 0, status::FLAG_REBOOT_NEEDED), 90_000, true);
        assert_eq!(stale.state, State::Updates, "the AUR's update counts");
        let mut none = status(0, 0, 0);
        none.foreign_updates = 0;
        assert_eq!(shown(&none, 90_000, true).state, State::Stale);
        assert_eq!(shown(&none, 5, false).state, State::UpToDate);
        assert_eq!(render("polybar", &shown(&none, 5, false)).unwrap(), "0");
        none.flags = status::FLAG_REFRESH_FAILED;
        assert_eq!(shown(&none, 5, false).state, State::Stale);
        assert_eq!(stale.text, "1? ⟳");
        assert_eq!(render("other", &stale), None);
        assert_eq!(json("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
    }
}
