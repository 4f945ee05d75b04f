//! `omg info`: every field of one or more packages, pacman style, or JSON.

use std::io::Write;

use super::output::{self, Fields, NAME, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, report, unexpected};
use crate::ipc::client::ClientError;
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};
use crate::model::{InstallReason, PackageInfo};
use clap::Args;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Package names
    #[arg(required = true, num_args = 1..)]
    pub names: Vec<String>,
    /// Print JSON: an array with one object per package found
    #[arg(long)]
    pub json: bool,
}

pub async fn run(session: &mut Session, args: &InfoArgs) -> Result<u8, Failure> {
    let mut found = Vec::new();
    let mut code = EXIT_OK;
    for name in &args.names {
        match session
            .request(RequestBody::Info { name: name.clone() })
            .await
        {
            Ok(ResponseBody::Info(info)) => found.push(*info),
            Ok(_) => return Err(unexpected()),
            Err(ClientError::Remote(e)) if e.kind == ErrorKind::NotFound => {
                report(&Failure::from(e));
                code = EXIT_FAILURE;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if args.json {
        print_json(&found)?;
    } else {
        let mut out = anstream::stdout().lock();
        for (i, info) in found.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            print(&mut out, info)?;
        }
    }
    Ok(code)
}

fn print(out: &mut impl Write, info: &PackageInfo) -> std::io::Result<()> {
    let f = Fields {
        label_width: 16,
        width: output::terminal_width(),
    };
    let styled =
        |style: anstyle::Style, s: &str| format!("{}{s}{}", style.render(), style.render_reset());
    f.line(out, "Name", &styled(NAME, &info.name))?;
    f.line(out, "Version", &styled(VERSION, &info.version))?;
    let installed = match (&info.installed_version, info.upgradable) {
        (None, _) => "No".to_string(),
        (Some(v), true) => format!(
            "{v} (upgradable to {})",
            info.candidate_version.as_deref().unwrap_or("?")
        ),
        (Some(v), false) => v.clone(),
    };
    f.line(out, "Installed", &installed)?;
    let reason = match info.install_reason {
        Some(InstallReason::Explicit) => "Explicitly installed",
        Some(InstallReason::Dependency) => "Installed as a dependency of another package",
        None => "Not installed",
    };
    f.line(out, "Install Reason", reason)?;
    f.line(out, "Repository", &info.repository)?;
    if let Some(grade) = info.grade {
        let why = info.grade_reason.as_deref().unwrap_or_default();
        f.line(out, "Security", &format!("{} ({why})", grade.as_str()))?;
    }
    f.line(out, "Architecture", &info.architecture)?;
    let arch_style = info.packager.is_some() || info.build_date.is_some();
    if info.aur.is_some() {
        aur_fields(out, &f, info)?;
    } else if arch_style {
        pacman_fields(out, &f, info)?;
    } else {
        debian_fields(out, &f, info)?;
    }
    let versions: Vec<String> = info
        .available
        .iter()
        .map(|v| format!("{} [{}]", v.version, v.repositories.join(", ")))
        .collect();
    f.list(out, "Versions", &versions)?;
    f.line(out, "Description", &info.summary)?;
    if !info.description.is_empty() {
        for line in info.description.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn or_none(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("None")
}

fn sizes(out: &mut impl Write, f: &Fields, info: &PackageInfo) -> std::io::Result<()> {
    f.line(
        out,
        "Download Size",
        &output::human_size(info.download_size),
    )?;
    f.line(
        out,
        "Installed Size",
        &output::human_size(info.installed_size),
    )
}

/// The fields a Debian user knows from `apt show`.
fn debian_fields(out: &mut impl Write, f: &Fields, info: &PackageInfo) -> std::io::Result<()> {
    f.line(out, "Section", or_none(&info.section))?;
    f.line(out, "Priority", or_none(&info.priority))?;
    sizes(out, f, info)?;
    f.line(out, "Maintainer", or_none(&info.maintainer))?;
    f.line(out, "Homepage", or_none(&info.homepage))?;
    f.line(out, "Source", or_none(&info.source))?;
    f.list(out, "Pre-Depends", &info.pre_depends)?;
    f.list(out, "Depends On", &info.depends)?;
    f.list(out, "Recommends", &info.recommends)?;
    f.list(out, "Suggests", &info.suggests)?;
    f.list(out, "Provides", &info.provides)?;
    f.list(out, "Conflicts With", &info.conflicts)?;
    f.list(out, "Breaks", &info.breaks)?;
    f.list(out, "Replaces", &info.replaces)?;
    f.line(out, "Essential", if info.essential { "Yes" } else { "No" })
}

/// The fields a paru or yay user knows from `-Si` of an AUR package.
fn aur_fields(out: &mut impl Write, f: &Fields, info: &PackageInfo) -> std::io::Result<()> {
    let Some(aur) = &info.aur else {
        return Ok(());
    };
    let now = crate::unix_now();
    let when = |t: i64| {
        u64::try_from(t).map_or_else(|_| "None".to_string(), |t| output::human_time(t, now))
    };
    f.line(out, "Base", &aur.package_base)?;
    f.list(out, "Groups", &info.groups)?;
    f.list(out, "Licenses", &info.licenses)?;
    f.line(out, "URL", or_none(&info.homepage))?;
    f.list(out, "Keywords", &aur.keywords)?;
    f.list(out, "Provides", &info.provides)?;
    f.list(out, "Depends On", &info.depends)?;
    f.list(out, "Make Deps", &info.make_depends)?;
    f.list(out, "Check Deps", &info.check_depends)?;
    let optional: Vec<String> = info
        .optional_depends
        .iter()
        .map(|o| o.depend.clone())
        .collect();
    f.list(out, "Optional Deps", &optional)?;
    f.list(out, "Conflicts With", &info.conflicts)?;
    f.list(out, "Replaces", &info.replaces)?;
    f.line(
        out,
        "Maintainer",
        aur.maintainer.as_deref().unwrap_or("None (orphaned)"),
    )?;
    f.line(out, "Votes", &aur.votes.to_string())?;
    f.line(out, "Popularity", &format!("{:.6}", aur.popularity))?;
    f.line(out, "First Submitted", &when(aur.first_submitted))?;
    f.line(out, "Last Modified", &when(aur.last_modified))?;
    f.line(
        out,
        "Out-of-date",
        &aur.out_of_date
            .map_or_else(|| "No".to_string(), |t| format!("Yes, flagged {}", when(t))),
    )
}

/// The fields an Arch user knows from `pacman -Si` / `-Qi`.
fn pacman_fields(out: &mut impl Write, f: &Fields, info: &PackageInfo) -> std::io::Result<()> {
    let date = |t: Option<u64>| {
        t.map_or_else(
            || "None".to_string(),
            |t| output::human_time(t, crate::unix_now()),
        )
    };
    f.list(out, "Groups", &info.groups)?;
    f.list(out, "Licenses", &info.licenses)?;
    sizes(out, f, info)?;
    f.line(out, "Packager", or_none(&info.packager))?;
    f.line(out, "URL", or_none(&info.homepage))?;
    f.line(out, "Base", or_none(&info.source))?;
    f.list(out, "Depends On", &info.depends)?;
    let optional: Vec<String> = info
        .optional_depends
        .iter()
        .map(|o| {
            if o.installed {
                format!("{} [installed]", o.depend)
            } else {
                o.depend.clone()
            }
        })
        .collect();
    // One per line, as pacman prints them.
    if optional.is_empty() {
        f.line(out, "Optional Deps", "None")?;
    } else {
        let indent = " ".repeat(f.label_width + 3);
        f.line(out, "Optional Deps", &optional.join(&format!("\n{indent}")))?;
    }
    if info.installed_version.is_some() {
        f.list(out, "Required By", &info.required_by)?;
    }
    f.list(out, "Provides", &info.provides)?;
    f.list(out, "Conflicts With", &info.conflicts)?;
    f.list(out, "Replaces", &info.replaces)?;
    f.line(out, "Build Date", &date(info.build_date))?;
    if info.installed_version.is_some() {
        f.line(out, "Install Date", &date(info.install_date))?;
        f.line(out, "Validated By", &info.validation.join("  "))?;
    }
    if info.essential {
        f.line(out, "Held", "Yes (HoldPkg: asks before removal)")?;
    }
    Ok(())
}
