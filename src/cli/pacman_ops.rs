//! pacman's operations (`-S`, `-Ss`, `-Syu`, `-R`, `-Rns`, `-Q`, `-Qi`,
//! `-U`, `-Sc`, …), as paru and yay accept them: each is translated into
//! the omg command line that does the same, before clap sees the
//! arguments, so the translated command asks omgd the same request and
//! prints the same output with the same exit status. An operation omg does
//! not have is refused, naming the omg command to use instead.

use super::{EXIT_USAGE, Failure};

/// Global options that take a value, passed on unchanged.
const GLOBAL_WITH_VALUE: &[&str] = &[
    "--color",
    "--backend",
    "--root",
    "--dbpath",
    "--pacman-conf",
];
/// Global flags, passed on unchanged.
const GLOBAL_FLAGS: &[&str] = &["--verbose", "--no-daemon"];
/// pacman's long modifiers omg has the meaning of, passed on as they are.
const PASSED_ON: &[&str] = &[
    "--needed",
    "--asdeps",
    "--asexplicit",
    "--noconfirm",
    "--yes",
    "--dry-run",
    "--json",
];

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(message, EXIT_USAGE)
}

/// The operation letter of `arg` and the modifier letters after it, when
/// `arg` is one (`-Syu`, `--sync`).
fn operation(arg: &str) -> Option<(char, String)> {
    let long = match arg {
        "--sync" => Some('S'),
        "--remove" => Some('R'),
        "--query" => Some('Q'),
        "--upgrade" => Some('U'),
        "--files" => Some('F'),
        "--database" => Some('D'),
        "--deptest" => Some('T'),
        _ => None,
    };
    if let Some(op) = long {
        return Some((op, String::new()));
    }
    let letters = arg.strip_prefix('-')?;
    if letters.starts_with('-') {
        return None;
    }
    let mut chars = letters.chars();
    let op = chars.next()?;
    "SRQUFDTV"
        .contains(op)
        .then(|| (op, chars.collect::<String>()))
}

/// A long modifier as the letter pacman has for it under `op`.
fn long_letter(op: char, arg: &str) -> Option<char> {
    let letter = match (op, arg) {
        ('S', "--refresh") => 'y',
        ('S', "--sysupgrade") => 'u',
        ('S' | 'Q', "--search") => 's',
        ('S' | 'Q', "--info") => 'i',
        ('S', "--clean") => 'c',
        ('S', "--downloadonly") => 'w',
        ('R', "--recursive") => 's',
        ('R', "--nosave") => 'n',
        ('R', "--cascade") => 'c',
        ('Q', "--explicit") => 'e',
        ('Q', "--deps") => 'd',
        ('Q', "--unrequired") => 't',
        ('Q', "--upgrades") => 'u',
        ('Q', "--owns") => 'o',
        ('Q' | 'F', "--list") => 'l',
        ('F', "--refresh") => 'y',
        ('Q', "--foreign") => 'm',
        (_, "--quiet") => 'q',
        _ => return None,
    };
    Some(letter)
}

/// What the command line says once the operation is found.
#[derive(Debug, Default)]
struct Parsed {
    op: char,
    /// Modifier letters, repeats kept (`-Syy`, `-Scc`).
    letters: String,
    /// Long modifiers passed on to the omg command.
    passed: Vec<String>,
    targets: Vec<String>,
}

impl Parsed {
    fn count(&self, letter: char) -> usize {
        self.letters.chars().filter(|&c| c == letter).count()
    }

    fn has(&self, letter: char) -> bool {
        self.count(letter) > 0
    }

    /// Refuses any letter not in `allowed`.
    fn only(&self, allowed: &str) -> Result<(), Failure> {
        match self.letters.chars().find(|c| !allowed.contains(*c)) {
            Some(c) => Err(usage(format!(
                "-{}{c}: omg has no equivalent of pacman's -{c} with -{}",
                self.op, self.op
            ))),
            None => Ok(()),
        }
    }

    fn needs_targets(&self, what: &str) -> Result<(), Failure> {
        if self.targets.is_empty() {
            Err(usage(format!("-{}: name {what}", self.op)))
        } else {
            Ok(())
        }
    }

    fn no_targets(&self) -> Result<(), Failure> {
        if self.targets.is_empty() {
            Ok(())
        } else {
            Err(usage(format!(
                "-{}{} takes no targets ({} given)",
                self.op,
                self.letters,
                self.targets.join(" ")
            )))
        }
    }
}

/// The omg command lines a pacman-style invocation stands for, run one
/// after the other (`-Syu PKG`: the upgrade, then the install); `None`
/// when `argv` is not one (an omg command, `--help`, …).
pub fn translate(argv: &[String]) -> Option<Result<Vec<Vec<String>>, Failure>> {
    let mut globals: Vec<String> = Vec::new();
    let mut parsed: Option<Parsed> = None;
    let mut rest = argv.iter().skip(1);
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if GLOBAL_WITH_VALUE.contains(&name) || name == "--config" {
            let value = match inline {
                Some(v) => v,
                None => match rest.next() {
                    Some(v) => v.clone(),
                    None => return Some(Err(usage(format!("{name} needs a value")))),
                },
            };
            // pacman's --config is omg's --pacman-conf.
            let name = if name == "--config" {
                "--pacman-conf"
            } else {
                name
            };
            globals.extend([name.to_string(), value]);
            continue;
        }
        if GLOBAL_FLAGS.contains(&name) {
            globals.push(arg.clone());
            continue;
        }
        let Some(p) = parsed.as_mut() else {
            // Before the operation: anything else means this is not one.
            let (op, letters) = operation(arg)?;
            parsed = Some(Parsed {
                op,
                letters,
                ..Parsed::default()
            });
            continue;
        };
        if arg == "--" {
            p.targets.extend(rest.by_ref().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if PASSED_ON.contains(&arg.as_str()) {
                p.passed.push(arg.clone());
            } else if let Some(letter) = long_letter(p.op, arg) {
                p.letters.push(letter);
            } else {
                let why = match long.split('=').next().unwrap_or(long) {
                    "overwrite" => {
                        "omg does not overwrite files another package owns; remove or move them first"
                    }
                    "nodeps" => "omg always checks dependencies",
                    "dbonly" => "omg changes the files and the database together",
                    "print" | "print-format" => "omg install --dry-run shows the plan",
                    _ => "omg has no such option",
                };
                return Some(Err(usage(format!(
                    "pacman's --{long} is not supported: {why}"
                ))));
            }
            continue;
        }
        match arg.strip_prefix('-') {
            Some(letters) if !letters.is_empty() => p.letters.push_str(letters),
            _ => p.targets.push(arg.clone()),
        }
    }
    let parsed = parsed?;
    Some(commands(&parsed).map(|runs| {
        runs.into_iter()
            .map(|run| {
                let mut line = vec![argv.first().cloned().unwrap_or_else(|| "omg".into())];
                line.extend(globals.iter().cloned());
                line.extend(run);
                line
            })
            .collect()
    }))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `command` followed by the targets.
fn with_targets(command: &[&str], p: &Parsed) -> Vec<Vec<String>> {
    let mut line = strings(command);
    line.extend(p.targets.iter().cloned());
    vec![line]
}

/// `omg files` once per package named.
fn files_each(p: &Parsed) -> Vec<Vec<String>> {
    p.targets
        .iter()
        .map(|t| strings(&["files", t.as_str()]))
        .collect()
}

/// The omg commands (without the program name) for one operation.
fn commands(p: &Parsed) -> Result<Vec<Vec<String>>, Failure> {
    let with = |mut command: Vec<String>, extra: &[String]| {
        command.extend(extra.iter().cloned());
        command
    };
    let targets = &p.targets;
    match p.op {
        'S' => sync(p),
        'R' => {
            p.only("snc")?;
            p.needs_targets("the packages to remove")?;
            let mut command = strings(&["remove"]);
            if p.has('s') {
                command.push("--recursive".into());
            }
            if p.has('c') {
                command.push("--cascade".into());
            }
            if p.has('n') {
                command.push("--purge".into());
            }
            command.extend(p.passed.iter().cloned());
            Ok(vec![with(command, targets)])
        }
        'Q' => query(p),
        'U' => {
            p.only("w")?;
            p.needs_targets("the package files to install")?;
            let mut command = strings(&["install"]);
            if p.has('w') {
                command.push("--download-only".into());
            }
            command.extend(p.passed.iter().cloned());
            Ok(vec![with(command, targets)])
        }
        'V' => Ok(vec![strings(&["--version"])]),
        'F' => files_op(p),
        'D' => Err(usage(
            "-D: omg install --asdeps / --asexplicit sets the install reason as it installs",
        )),
        _ => Err(usage(
            "-T: omg info PKG shows whether a package is installed and what provides it",
        )),
    }
}

/// `-S` and its forms.
fn sync(p: &Parsed) -> Result<Vec<Vec<String>>, Failure> {
    p.only("yuscwiq")?;
    let targets = &p.targets;
    let mut runs = Vec::new();
    if p.has('c') {
        p.only("c")?;
        p.no_targets()?;
        // pacman -Sc keeps the installed versions; so does omg (-Scc too:
        // a rollback needs them).
        let mut command = strings(&["clean", "--cache", "--keep", "0"]);
        command.extend(p.passed.iter().cloned());
        return Ok(vec![command]);
    }
    let refresh = match p.count('y') {
        0 => None,
        1 => Some(strings(&["sync"])),
        _ => Some(strings(&["sync", "--force"])),
    };
    if p.has('s') {
        p.only("syq")?;
        runs.extend(refresh);
        let mut command = strings(&["search"]);
        command.extend(targets.iter().cloned());
        if targets.is_empty() {
            return Err(usage("-Ss: name the words to search for"));
        }
        runs.push(command);
        return Ok(runs);
    }
    if p.has('i') {
        p.only("iy")?;
        p.needs_targets("the packages to show")?;
        runs.extend(refresh);
        let mut command = strings(&["info"]);
        command.extend(targets.iter().cloned());
        runs.push(command);
        return Ok(runs);
    }
    if p.has('q') {
        return Err(usage("-Sq: -q goes with -Ss (omg search) or -Q"));
    }
    let download_only = p.has('w');
    let mut install = strings(&["install"]);
    if download_only {
        install.push("--download-only".into());
    }
    install.extend(p.passed.iter().cloned());
    install.extend(targets.iter().cloned());
    if p.has('u') {
        if p.count('u') > 1 {
            return Err(usage(
                "-Suu: omg upgrade never downgrades; omg downgrade PKG VERSION does",
            ));
        }
        // omg upgrade refreshes the databases itself; -yy forces it.
        if p.count('y') > 1 {
            runs.push(strings(&["sync", "--force"]));
        }
        let mut upgrade = strings(&["upgrade"]);
        if download_only {
            upgrade.push("--download-only".into());
        }
        upgrade.extend(
            p.passed
                .iter()
                .filter(|a| matches!(a.as_str(), "--noconfirm" | "--yes" | "--dry-run" | "--json"))
                .cloned(),
        );
        runs.push(upgrade);
        if !targets.is_empty() {
            runs.push(install);
        }
        return Ok(runs);
    }
    runs.extend(refresh);
    if !targets.is_empty() {
        runs.push(install);
    } else if runs.is_empty() {
        return Err(usage("-S: name the packages to install"));
    }
    Ok(runs)
}

/// `-F` and its forms: the file index.
fn files_op(p: &Parsed) -> Result<Vec<Vec<String>>, Failure> {
    if p.has('y') {
        return Err(usage(
            "-Fy: omgd's refresh worker keeps the file index (omgd work refresh)",
        ));
    }
    p.only("lq")?;
    p.needs_targets("the commands, files or packages")?;
    if p.has('l') {
        return Ok(files_each(p));
    }
    Ok(with_targets(&["provides"], p))
}

/// `-Q` and its forms.
fn query(p: &Parsed) -> Result<Vec<Vec<String>>, Failure> {
    p.only("edtuioqsml")?;
    let targets = &p.targets;
    if p.has('o') {
        p.only("oq")?;
        p.needs_targets("the files")?;
        return Ok(with_targets(&["owns"], p));
    }
    if p.has('l') {
        p.only("lq")?;
        p.needs_targets("the packages")?;
        return Ok(files_each(p));
    }
    if p.has('m') {
        return Err(usage(
            "-Qm: omg outdated lists the AUR packages installed with their updates",
        ));
    }
    if p.has('i') {
        p.only("i")?;
        p.needs_targets("the packages to show")?;
        return Ok(with_targets(&["info"], p));
    }
    if p.has('s') {
        p.only("sq")?;
        if targets.is_empty() {
            return Err(usage("-Qs: name the words to search for"));
        }
        let mut command = strings(&["search", "--installed"]);
        command.extend(targets.iter().cloned());
        return Ok(vec![command]);
    }
    if !targets.is_empty() {
        return Err(usage(format!(
            "-Q with package names: omg info {} shows them",
            targets.join(" ")
        )));
    }
    let mut command = strings(&["list"]);
    let filter = match (p.has('e'), p.has('d'), p.has('t'), p.has('u')) {
        (false, false, false, false) => None,
        (true, false, false, false) => Some("--explicit"),
        (false, true, false, false) => Some("--deps"),
        (false, true, true, false) => Some("--orphans"),
        (false, false, false, true) => Some("--upgradable"),
        _ => {
            return Err(usage(format!(
                "-Q{}: omg list filters by one of -e, -d, -dt (orphans), -u",
                p.letters
            )));
        }
    };
    command.extend(filter.map(str::to_string));
    if p.has('q') {
        command.push("--quiet".into());
    }
    Ok(vec![command])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(args: &str) -> Result<Vec<String>, String> {
        let argv: Vec<String> = std::iter::once("omg")
            .chain(args.split_whitespace())
            .map(str::to_string)
            .collect();
        match translate(&argv) {
            None => Err("not an operation".into()),
            Some(Err(f)) => Err(f.message),
            Some(Ok(runs)) => Ok(runs.iter().map(|r| r[1..].join(" ")).collect()),
        }
    }

    #[test]
    fn operations_become_the_omg_commands_they_are() {
        let cases = [
            ("-S a b --needed", vec!["install --needed a b"]),
            ("-Ss fire fox", vec!["search fire fox"]),
            ("-Si a", vec!["info a"]),
            ("-Syu", vec!["upgrade"]),
            (
                "-Syu --noconfirm a",
                vec!["upgrade --noconfirm", "install --noconfirm a"],
            ),
            ("-Syyu", vec!["sync --force", "upgrade"]),
            ("-Sy", vec!["sync"]),
            ("-Syy", vec!["sync --force"]),
            ("-Sy a", vec!["sync", "install a"]),
            ("-Sw a", vec!["install --download-only a"]),
            ("-R a", vec!["remove a"]),
            ("-Rns a", vec!["remove --recursive --purge a"]),
            ("-Rc a", vec!["remove --cascade a"]),
            ("-Q", vec!["list"]),
            ("-Qe", vec!["list --explicit"]),
            ("-Qqe", vec!["list --explicit --quiet"]),
            ("-Qd", vec!["list --deps"]),
            ("-Qdt", vec!["list --orphans"]),
            ("-Q -d -t", vec!["list --orphans"]),
            ("-Qu", vec!["list --upgradable"]),
            ("-Qi a", vec!["info a"]),
            ("-Qs a", vec!["search --installed a"]),
            ("-Qo /usr/bin/ls ls", vec!["owns /usr/bin/ls ls"]),
            ("-Ql a b", vec!["files a", "files b"]),
            ("-F rg /usr/bin/fd", vec!["provides rg /usr/bin/fd"]),
            ("-Fl a", vec!["files a"]),
            (
                "-U ./a.pkg.tar.zst --asdeps",
                vec!["install --asdeps ./a.pkg.tar.zst"],
            ),
            ("-Sc", vec!["clean --cache --keep 0"]),
            ("-Scc", vec!["clean --cache --keep 0"]),
            ("--sync --refresh --sysupgrade", vec!["upgrade"]),
            (
                "--color never -Q --config /x/pacman.conf",
                vec!["--color never --pacman-conf /x/pacman.conf list"],
            ),
            ("-V", vec!["--version"]),
        ];
        for (args, want) in cases {
            assert_eq!(
                lines(args),
                Ok(want.iter().map(|s| s.to_string()).collect()),
                "{args}"
            );
        }
    }

    #[test]
    fn commands_and_help_are_left_to_clap() {
        for args in [
            "search a",
            "--help",
            "-h",
            "--version",
            "",
            "--color never list",
        ] {
            assert_eq!(lines(args), Err("not an operation".into()), "{args:?}");
        }
    }

    #[test]
    fn what_omg_does_not_do_is_refused_by_name() {
        for (args, says) in [
            ("-S a --overwrite /x", "--overwrite is not supported"),
            ("-Rdd a", "-d with -R"),
            ("-Fy", "refresh worker"),
            ("-Fx a", "-x with -F"),
            ("-S", "name the packages"),
            ("-R", "name the packages"),
            ("-Q a", "omg info a"),
            ("-Suu", "never downgrades"),
            ("-Sc a", "takes no targets"),
            ("-Qet", "one of"),
        ] {
            let got = lines(args).unwrap_err();
            assert!(got.contains(says), "{args}: {got}");
        }
    }
}
