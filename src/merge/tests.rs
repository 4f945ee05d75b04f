use super::*;

fn left(dir: &Path, name: &str, suffix: &str, current: &str, new: &str) -> ConfigFile {
    let target = dir.join(name);
    std::fs::write(&target, current).unwrap();
    let path = dir.join(format!("{name}{suffix}"));
    std::fs::write(&path, new).unwrap();
    ConfigFile {
        path: path.display().to_string(),
        target: target.display().to_string(),
        package: None,
        old_version: None,
        base: None,
    }
}

#[test]
fn files_left_are_found_under_etc_and_new_ones_told_apart() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/app");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("a.conf"), "a").unwrap();
    std::fs::write(etc.join("a.conf.pacnew"), "a2").unwrap();
    let before = scan(root.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        [&etc.join("a.conf.pacnew")]
    );
    std::fs::write(etc.join("b.conf.dpkg-dist"), "b2").unwrap();
    std::fs::write(root.path().join("etc/.dpkg-dist"), "no name").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", etc.join("c.conf.ucf-dist")).unwrap();
    let after = scan(root.path());
    assert_eq!(appeared(&before, &after), [etc.join("b.conf.dpkg-dist")]);
    assert_eq!(
        target_of(Path::new("/etc/x.conf.dpkg-old")),
        Some(PathBuf::from("/etc/x.conf"))
    );
    assert_eq!(target_of(Path::new("/etc/x.conf")), None);
}

#[test]
fn keep_take_and_a_clean_three_way_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kept = left(d, "kept.conf", ".pacnew", "mine\n", "theirs\n");
    keep(&kept).unwrap();
    assert_eq!(std::fs::read_to_string(&kept.target).unwrap(), "mine\n");
    assert!(!kept.pending());

    let taken = left(d, "taken.conf", ".dpkg-dist", "mine\n", "theirs\n");
    taken.pending().then_some(()).unwrap();
    take(&taken).unwrap();
    assert_eq!(std::fs::read_to_string(&taken.target).unwrap(), "theirs\n");
    assert!(!taken.pending());

    // The admin changed line 1, the package line 3: both kept.
    let mut merged = left(
        d,
        "merged.conf",
        ".pacnew",
        "port = 8080\nname = x\nlog = info\n",
        "port = 80\nname = x\nlog = debug\n",
    );
    let base = d.join("merged.base");
    std::fs::write(&base, "port = 80\nname = x\nlog = info\n").unwrap();
    merged.base = Some(base.display().to_string());
    assert_eq!(merge(&merged, None).unwrap(), Merged::Clean);
    assert_eq!(
        std::fs::read_to_string(&merged.target).unwrap(),
        "port = 8080\nname = x\nlog = debug\n"
    );
    assert!(!merged.pending());
}

#[test]
fn a_conflict_is_marked_and_stays_pending_and_saved_files_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = left(d, "c.conf", ".pacnew", "port = 8080\n", "port = 443\n");
    assert_eq!(merge(&file, None).unwrap(), Merged::Conflicts(1));
    let text = std::fs::read_to_string(&file.target).unwrap();
    assert!(
        text.contains("<<<<<<< current") && text.contains("port = 443"),
        "{text}"
    );
    assert!(file.pending(), "resolved by hand, then kept");

    let saved = left(d, "s.conf", ".pacsave", "", "old\n");
    assert!(merge(&saved, None).is_err());
    assert_eq!(saved.kind(), "pacsave");
    assert!(!saved.is_new_version());
}
