//! `omg verify FILE --sig SIG --keyring K`: detached signatures made here
//! with sequoia, checked through omgd against a keyring file or a
//! directory of keys.

mod common;

use common::pgp::{Form, key, public};

fn armored_sig(cert: &common::pgp::Cert, data: &[u8]) -> Vec<u8> {
    common::pgp::sign(cert, data, Form::Armored)
}

#[test]
fn good_signatures_pass_and_everything_else_is_refused() {
    let env = common::Env::new();
    let dir = env.dir.path();
    let alice = key("Alice Release <alice@example.org>");
    let mallory = key("Mallory <mallory@example.org>");
    let data = b"release tarball\n";
    std::fs::write(dir.join("release.tar"), data).unwrap();
    std::fs::write(dir.join("release.tar.asc"), armored_sig(&alice, data)).unwrap();
    std::fs::write(dir.join("forged.asc"), armored_sig(&mallory, data)).unwrap();
    std::fs::write(dir.join("alice.asc"), public(&alice)).unwrap();
    let s = |p: &str| dir.join(p).display().to_string();

    let good = env.omg(&[
        "verify",
        &s("release.tar"),
        "--sig",
        &s("release.tar.asc"),
        "--keyring",
        &s("alice.asc"),
    ]);
    assert_eq!(good.code, 0, "{}", good.stderr);
    assert!(good.stdout.contains("good signature by"), "{}", good.stdout);
    assert!(
        good.stdout.contains(&alice.fingerprint().to_hex()),
        "{}",
        good.stdout
    );
    assert!(good.stdout.contains("Alice Release"), "{}", good.stdout);

    // Keys in the default directory, <config>/keys.
    let keys = env.config_dir().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join("alice.asc"), public(&alice)).unwrap();
    let default = env.omg(&["verify", &s("release.tar"), "--sig", &s("release.tar.asc")]);
    assert_eq!(default.code, 0, "{}", default.stderr);

    // A signature by a key nobody trusts.
    let forged = env.omg(&[
        "verify",
        &s("release.tar"),
        "--sig",
        &s("forged.asc"),
        "--keyring",
        &s("alice.asc"),
    ]);
    assert_eq!(forged.code, 1);
    assert!(forged.stderr.contains("release.tar"), "{}", forged.stderr);

    // The file changed after signing.
    std::fs::write(dir.join("release.tar"), b"release tarball, patched\n").unwrap();
    let tampered = env.omg(&[
        "verify",
        &s("release.tar"),
        "--sig",
        &s("release.tar.asc"),
        "--keyring",
        &s("alice.asc"),
    ]);
    assert_eq!(tampered.code, 1);

    // Garbage for a signature, and an empty keyring.
    std::fs::write(dir.join("junk.sig"), b"not a signature").unwrap();
    let junk = env.omg(&[
        "verify",
        &s("release.tar"),
        "--sig",
        &s("junk.sig"),
        "--keyring",
        &s("alice.asc"),
    ]);
    assert_eq!(junk.code, 1);
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let empty = env.omg(&[
        "verify",
        &s("release.tar"),
        "--sig",
        &s("release.tar.asc"),
        "--keyring",
        &s("empty"),
    ]);
    assert_eq!(empty.code, 1);
    assert!(empty.stderr.contains("no keys"), "{}", empty.stderr);
}

#[test]
fn files_a_client_names_are_regular_files_of_the_build_directory() {
    use omg::ipc::protocol::{ErrorKind, RequestBody, ServerFrame};
    let env = common::Env::new();
    let dir = env.dir.path();
    let alice = key("Alice Release <alice@example.org>");
    let data = b"release tarball\n";
    std::fs::write(dir.join("release.tar"), data).unwrap();
    std::fs::write(dir.join("release.tar.asc"), armored_sig(&alice, data)).unwrap();
    std::fs::write(dir.join("alice.asc"), public(&alice)).unwrap();
    std::os::unix::fs::symlink(dir.join("release.tar"), dir.join("link.tar")).unwrap();
    let s = |p: &str| dir.join(p).display().to_string();
    let _daemon = env.start_daemon();
    let refusal = |body: RequestBody| {
        let mut client = common::RawClient::connect(&env.socket());
        client.hello();
        client.request(1, body);
        match client.receive() {
            Some(ServerFrame::Response(r)) => r.result.unwrap_err(),
            other => panic!("{other:?}"),
        }
    };
    // A device, and a link, are refused before anything reads them.
    for (file, why) in [
        ("/dev/zero".to_string(), "is not a regular file"),
        (s("link.tar"), "symbolic links"),
    ] {
        let e = refusal(RequestBody::VerifyFile {
            file: file.clone(),
            signature: s("release.tar.asc"),
            keyring: s("alice.asc"),
        });
        assert_eq!(e.kind, ErrorKind::InvalidRequest, "{file}: {}", e.message);
        assert!(e.message.contains(why), "{file}: {}", e.message);
    }
    // Source signatures name files of the build directory only.
    let e = refusal(RequestBody::VerifySignatures {
        dir: dir.display().to_string(),
        pairs: vec![("../../etc/passwd".into(), "release.tar.asc".into())],
        validpgpkeys: Vec::new(),
    });
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(
        e.message.contains("is not a file of the build directory"),
        "{}",
        e.message
    );
}
