//! The license server image checked with the real container tools: skopeo
//! (`docker-archive:` and `oci-archive:`), umoci (unpacks the OCI layout) and
//! podman (`load`, `image inspect`, `rmi`). Debian's `podman runc skopeo
//! umoci`, which CI installs; without them these tests FAIL.
//!
//! podman runs with its own `--root`/`--runroot` in a temp dir per test (vfs
//! storage), so the tests run in parallel and leave nothing behind.

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use fanlic_issuer::image::oci::{
    BaseLayer, CONFIG_DIR, ImageFile, ImageSpec, PORT, REPOSITORY, SERVER_PATH, read_image, write_image,
};
use serde_json::Value;

const INSTALL: &str = "apt-get install -y podman runc skopeo umoci";

/// The tool `name`, or a failure that says how to install it.
fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    match Command::new(name).arg("--version").output() {
        Ok(o) if o.status.success() => PathBuf::from(name),
        _ => panic!("{name} not found: these tests need the real container tools; run `{INSTALL}`"),
    }
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; run `{INSTALL}`"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run_json(cmd: &mut Command) -> Value {
    serde_json::from_slice(&run(cmd).stdout).unwrap()
}

/// A license id of its own per test (and per run), so that parallel tests
/// and left-overs never share a tag.
fn license_id(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let seed = format!("{test}-{}-{nanos}", std::process::id());
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

struct Built {
    id: String,
    tar: PathBuf,
    server: Vec<u8>,
    files: Vec<ImageFile>,
    labels: BTreeMap<String, String>,
}

/// Writes an image with `/bin/true` as the "server binary" (it need not
/// run) and a license and key in the top layer.
fn build(dir: &Path, test: &str) -> Built {
    let id = license_id(test);
    let server = fs::read("/bin/true").unwrap();
    let files = vec![
        ImageFile {
            path: "app/license/server.lic".to_owned(),
            data: format!("-----BEGIN FANLIC LICENSE-----\n{id}\n-----END FANLIC LICENSE-----\n").into_bytes(),
            mode: 0o644,
        },
        ImageFile { path: "app/license/image.key".to_owned(), data: (0..=255u8).collect(), mode: 0o600 },
    ];
    let labels: BTreeMap<String, String> =
        [("org.opencontainers.image.title", "FanRuan license server"), ("com.fanruan.license-id", id.as_str())]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let spec = ImageSpec {
        license_id: &id,
        files: &files,
        labels: labels.clone(),
        env: vec!["FANLIC_LICENSE=/app/license/server.lic".to_owned()],
    };
    let tar = dir.join("fanruan_license_server.tar");
    let mut out = fs::File::create(&tar).unwrap();
    write_image(&BaseLayer::new(&server).unwrap(), &spec, &mut out).unwrap();
    drop(out);
    read_image(&fs::read(&tar).unwrap()).unwrap();
    Built { id, tar, server, files, labels }
}

/// What every tool must report about the config.
fn check_config(config: &Value, built: &Built) {
    assert_eq!(config["Entrypoint"], serde_json::json!([SERVER_PATH]), "{config}");
    assert_eq!(config["WorkingDir"], "/app");
    assert!(config["ExposedPorts"].get(format!("{PORT}/tcp")).is_some(), "{config}");
    assert!(config["Volumes"].get(CONFIG_DIR).is_some(), "{config}");
    for (k, v) in &built.labels {
        assert_eq!(config["Labels"][k], v.as_str(), "{config}");
    }
    assert_eq!(config["Env"], serde_json::json!(["FANLIC_LICENSE=/app/license/server.lic"]));
}

#[test]
fn skopeo_reads_docker_archive_and_oci_archive() {
    let skopeo = tool("skopeo");
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), "skopeo");
    let tag = format!("{REPOSITORY}:{}", built.id);

    for transport in ["docker-archive", "oci-archive"] {
        let target = format!("{transport}:{}", built.tar.display());
        let inspect = run_json(Command::new(&skopeo).args(["inspect", &target]));
        assert_eq!(inspect["Architecture"], "amd64", "{transport}: {inspect}");
        assert_eq!(inspect["Os"], "linux");
        assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2, "{transport}: {inspect}");
        for (k, v) in &built.labels {
            assert_eq!(inspect["Labels"][k], v.as_str(), "{transport}: {inspect}");
        }
        let config = run_json(Command::new(&skopeo).args(["inspect", "--config", &target]));
        check_config(&config["config"], &built);
    }

    // The tag: docker-archive lists manifest.json's RepoTags...
    let tags = run_json(Command::new(&skopeo).args(["list-tags", &format!("docker-archive:{}", built.tar.display())]));
    assert_eq!(tags["Tags"], serde_json::json!([tag]), "{tags}");
    // ...and the OCI side finds the image by its ref name.
    let by_ref = format!("oci-archive:{}:{}", built.tar.display(), built.id);
    run_json(Command::new(&skopeo).args(["inspect", &by_ref]));
    let wrong = format!("oci-archive:{}:latest", built.tar.display());
    assert!(!Command::new(&skopeo).args(["inspect", &wrong]).output().unwrap().status.success());
}

#[test]
fn umoci_unpacks_the_files_with_their_modes() {
    let umoci = tool("umoci");
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), "umoci");
    let layout = dir.path().join("layout");
    fs::create_dir(&layout).unwrap();
    run(Command::new("tar").arg("-xf").arg(&built.tar).arg("-C").arg(&layout));
    let bundle = dir.path().join("bundle");
    let image = format!("{}:{}", layout.display(), built.id);
    run(Command::new(&umoci).args(["unpack", "--rootless", "--image", &image]).arg(&bundle));

    let rootfs = bundle.join("rootfs");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    for f in &built.files {
        let path = rootfs.join(&f.path);
        assert_eq!(fs::read(&path).unwrap(), f.data, "{}", f.path);
        assert_eq!(mode(&path), f.mode, "{}", f.path);
    }
    let server = rootfs.join(SERVER_PATH.trim_start_matches('/'));
    assert_eq!(fs::read(&server).unwrap(), built.server);
    assert_eq!(mode(&server), 0o755);
    assert_eq!(mode(&rootfs.join(CONFIG_DIR.trim_start_matches('/'))), 0o700);
    assert_eq!(mode(&rootfs.join("app")), 0o755);
    // The runtime config umoci derived from the image config.
    let config: Value = serde_json::from_slice(&fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"], serde_json::json!([SERVER_PATH]), "{config}");
    assert_eq!(config["process"]["cwd"], "/app");
    assert!(
        config["process"]["env"].as_array().unwrap().iter().any(|e| e == "FANLIC_LICENSE=/app/license/server.lic"),
        "{config}"
    );
}

/// podman with storage of its own under `dir`.
fn podman(podman: &Path, dir: &Path) -> Command {
    let conf = dir.join("containers.conf");
    if !conf.exists() {
        fs::write(&conf, "[containers]\ndefault_ulimits = []\n").unwrap();
    }
    let mut cmd = Command::new(podman);
    cmd.env("CONTAINERS_CONF", &conf)
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .args(["--storage-driver", "vfs", "--runtime", "/usr/sbin/runc"]);
    cmd
}

#[test]
fn podman_loads_and_inspects_the_tag() {
    let bin = tool("podman");
    let dir = tempfile::tempdir().unwrap();
    let built = build(dir.path(), "podman");
    let storage = dir.path().join("podman");
    fs::create_dir(&storage).unwrap();
    let tag = format!("{REPOSITORY}:{}", built.id);

    let load = run(podman(&bin, &storage).arg("load").arg("-i").arg(&built.tar));
    let said = String::from_utf8_lossy(&load.stdout);
    assert!(said.contains(&tag), "podman load said: {said}");

    let inspect = run_json(podman(&bin, &storage).args(["image", "inspect", &tag]));
    let image = &inspect[0];
    assert!(image["RepoTags"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().ends_with(&tag)), "{image}");
    assert_eq!(image["Architecture"], "amd64");
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["RootFS"]["Layers"].as_array().unwrap().len(), 2, "{image}");
    check_config(&image["Config"], &built);

    run(podman(&bin, &storage).args(["rmi", &tag]));
    let gone = podman(&bin, &storage).args(["image", "exists", &tag]).status().unwrap();
    assert!(!gone.success(), "{tag} is still there after podman rmi");
}
