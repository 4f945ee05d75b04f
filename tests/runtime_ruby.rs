//! Ruby from source, the way ruby-build does it: a local server in
//! cache.ruby-lang.org's layout (`index.txt` with SHA-256 sums, source
//! tarballs under `<major.minor>/`). The tarballs are small source trees
//! whose `configure` writes a Makefile (a real CRuby build takes far too
//! long for a test); configure, make and make install run for real.

mod common;

use std::path::Path;

use common::http::FileServer;

fn tar_gz(files: &[(String, String, u32)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, body, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(*mode);
        header.set_cksum();
        tar.append_data(&mut header, path, body.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A source tree whose configure takes `--prefix` and writes a Makefile
/// that builds a `ruby` script and installs it under `$(DESTDIR)prefix`;
/// with `broken`, configure fails as it does without a C compiler.
fn source(version: &str, broken: bool) -> Vec<u8> {
    let configure = if broken {
        "#!/bin/sh\necho 'checking for gcc... no'\necho 'configure: error: no acceptable C compiler found in $PATH' >&2\nexit 1\n".to_string()
    } else {
        format!(
            "#!/bin/sh\n\
             for a in \"$@\"; do case \"$a\" in --prefix=*) prefix=\"${{a#--prefix=}}\";; esac; done\n\
             [ -n \"$prefix\" ] || {{ echo 'configure: no --prefix' >&2; exit 1; }}\n\
             printf 'all:\\n\\tprintf %s > ruby\\n\\tchmod +x ruby\\ninstall: all\\n\\tmkdir -p $(DESTDIR)%s/bin\\n\\tcp ruby $(DESTDIR)%s/bin/ruby\\n' \
             \"'#!/bin/sh\\\\necho ruby {version}\\\\n'\" \"$prefix\" \"$prefix\" > Makefile\n"
        )
    };
    tar_gz(&[
        (format!("ruby-{version}/configure"), configure, 0o755),
        (
            format!("ruby-{version}/README.md"),
            "# Ruby\n".into(),
            0o644,
        ),
    ])
}

#[test]
fn ruby_builds_from_a_verified_source_release() {
    let server = FileServer::start();
    let mut index = String::from("name\turl\tsha1\tsha256\tsha512\n");
    for (version, broken, tampered) in [
        ("3.3.1", false, false),
        ("3.3.0", true, false),
        ("3.2.4", false, true),
    ] {
        let tarball = source(version, broken);
        let minor = &version[..3];
        let hash = if tampered {
            "f".repeat(64)
        } else {
            common::sha256_hex(&tarball)
        };
        // The upstream's own URLs: re-rooted on the mirror by omg.
        index.push_str(&format!(
            "ruby-{version}\thttps://cache.ruby-lang.org/pub/ruby/{minor}/ruby-{version}.tar.gz\t{}\t{hash}\t{}\n",
            "0".repeat(40),
            "0".repeat(128)
        ));
        server.put(&format!("/pub/ruby/{minor}/ruby-{version}.tar.gz"), tarball);
    }
    server.put("/pub/ruby/index.txt", index);
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nruby_index = \"{}/pub/ruby/index.txt\"\n",
        server.url()
    ));
    let versions = env.data_dir().join("versions/ruby");

    let result = env.omg(&["install", "ruby", "3.3"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("ruby 3.3.1 is installed"),
        "{}",
        result.stdout
    );
    let ruby = versions.join("3.3.1/bin/ruby");
    let out = std::process::Command::new(&ruby).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ruby 3.3.1");
    let downloads = env.dir.path().join("cache/downloads");
    assert!(
        std::fs::read_dir(&downloads).unwrap().next().is_none(),
        "the source, the build tree and the log are cleaned up"
    );

    // A failed build: the error quotes the log, nothing is installed, the
    // log stays for the user.
    let result = env.omg(&["install", "ruby", "3.3.0"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("building ruby 3.3.0 failed"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("no acceptable C compiler found"),
        "{}",
        result.stderr
    );
    assert!(!versions.join("3.3.0").exists());
    assert!(downloads.join("ruby-3.3.0.build.log").is_file());
    assert!(!downloads.join("ruby-3.3.0.build").exists());

    // A source that does not match its checksum is never built.
    let result = env.omg(&["install", "ruby", "3.2.4"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("does not match its published checksum"),
        "{}",
        result.stderr
    );
    assert!(!versions.join("3.2.4").exists());

    // `.ruby-version` picks it up in the hook.
    let project = env.dir.path().join("app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".ruby-version"), "ruby-3.3.1\n").unwrap();
    let out = env
        .command(*common::OMG)
        .args(["hook-env", "bash"])
        .current_dir(&project)
        .env_remove("__OMG_STATE")
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("versions/ruby/3.3.1/bin"), "{code}");
    assert!(Path::new(&ruby).is_file());
}
