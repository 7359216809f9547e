//! Reading an image back and checking everything [`super::write_image`]
//! promises: the layout, the digests, the fixed config, both layers.

use super::tar::*;
use super::write::sha256_hex;
use super::*;

/// Parses and checks an image tar: the outer tar, every blob's sha256
/// against its name and descriptor, index.json, manifest.json, the OCI
/// manifest, the config, the tag, and both layers. Bounded by `tar`'s
/// length; never panics.
pub fn read_image(tar: &[u8]) -> Result<ImageTar, ImageError> {
    const OUTER: &str = "image";
    let entries = parse_tar(tar, OUTER)?;
    let mut files: BTreeMap<&str, &[u8]> = BTreeMap::new();
    let mut blobs: BTreeMap<String, &[u8]> = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for e in &entries {
        let unexpected = |reason: &str| ImageError::UnexpectedEntry {
            archive: OUTER,
            name: e.name.clone(),
            reason: reason.to_owned(),
        };
        match (e.kind, e.name.as_str()) {
            (Kind::Dir, name @ ("blobs/" | BLOBS)) => {
                dirs.insert(name);
            }
            (Kind::File, name @ ("index.json" | "manifest.json" | "oci-layout" | "repositories")) => {
                files.insert(name, e.data);
            }
            (Kind::File, name) => {
                let hex = name.strip_prefix(BLOBS).filter(|h| is_hex(h, 64)).ok_or_else(|| {
                    unexpected("only blobs/sha256/<64 hex digits>, index.json, manifest.json, oci-layout and repositories belong here")
                })?;
                let actual = sha256_hex(e.data);
                if actual != hex {
                    return Err(ImageError::BlobDigest { name: e.name.clone(), actual });
                }
                blobs.insert(hex.to_owned(), e.data);
            }
            (Kind::Dir, _) => return Err(unexpected("only the directories blobs/ and blobs/sha256/ belong here")),
        }
    }
    for name in ["oci-layout", "index.json", "manifest.json", "repositories"] {
        if !files.contains_key(name) {
            return Err(ImageError::Missing { name: name.to_owned() });
        }
    }
    for name in ["blobs/", BLOBS] {
        if !dirs.contains(name) {
            return Err(ImageError::Missing { name: format!("the directory entry {name}") });
        }
    }
    let file = |name: &str| files.get(name).copied().unwrap_or_default();

    let layout = parse_json("oci-layout", file("oci-layout"))?;
    if layout.get("imageLayoutVersion").and_then(Value::as_str) != Some("1.0.0") {
        return Err(ImageError::Layout { reason: "oci-layout does not say imageLayoutVersion 1.0.0".to_owned() });
    }

    // index.json → the tagged manifest.
    let index = parse_json("index.json", file("index.json"))?;
    check_versioned(&index, "index.json", MT_INDEX)?;
    let [manifest_desc] = index.get("manifests").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    else {
        return Err(ImageError::Layout { reason: "index.json must list exactly one manifest".to_owned() });
    };
    let (manifest_hex, manifest_bytes) =
        check_descriptor(manifest_desc, "index.json manifests[0]", MT_MANIFEST, &blobs)?;
    let annotation = |key: &str| manifest_desc.get("annotations").and_then(|a| a.get(key)).and_then(Value::as_str);
    let ref_name = annotation(ANN_REF_NAME)
        .ok_or_else(|| ImageError::Tag { reason: format!("index.json has no {ANN_REF_NAME} annotation") })?;
    check_license_id(ref_name).map_err(|_| ImageError::Tag {
        reason: format!("index.json's {ANN_REF_NAME} {ref_name:?} is not a license id"),
    })?;
    let license_id = ref_name.to_owned();
    let tag = format!("{REPOSITORY}:{license_id}");
    let full_name = format!("{DEFAULT_REGISTRY}{tag}");
    if annotation(ANN_IMAGE_NAME) != Some(full_name.as_str()) {
        return Err(ImageError::Tag { reason: format!("index.json's {ANN_IMAGE_NAME} is not {full_name:?}") });
    }

    // The OCI manifest → config and layers.
    let manifest = parse_json(&format!("{BLOBS}{manifest_hex} (manifest)"), manifest_bytes)?;
    check_versioned(&manifest, "the manifest", MT_MANIFEST)?;
    let config_desc = manifest.get("config").unwrap_or(&Value::Null);
    let (config_hex, config_bytes) = check_descriptor(config_desc, "the manifest's config", MT_CONFIG, &blobs)?;
    let [bottom_desc, top_desc] =
        manifest.get("layers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    else {
        return Err(ImageError::Layout { reason: "the manifest must list exactly two layers".to_owned() });
    };
    let (bottom_hex, bottom) = check_descriptor(bottom_desc, "the manifest's layers[0]", MT_LAYER, &blobs)?;
    let (top_hex, top) = check_descriptor(top_desc, "the manifest's layers[1]", MT_LAYER, &blobs)?;
    let used: BTreeSet<&str> =
        [&manifest_hex, &config_hex, &bottom_hex, &top_hex].into_iter().map(String::as_str).collect();
    if let Some(extra) = blobs.keys().find(|h| !used.contains(h.as_str())) {
        return Err(ImageError::UnexpectedEntry {
            archive: OUTER,
            name: format!("{BLOBS}{extra}"),
            reason: "no manifest refers to this blob".to_owned(),
        });
    }

    // Docker's manifest.json and repositories must say the same.
    let docker = parse_json("manifest.json", file("manifest.json"))?;
    let [item] = docker.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err(ImageError::Layout { reason: "manifest.json must list exactly one image".to_owned() });
    };
    let want_config = format!("{BLOBS}{config_hex}");
    if item.get("Config").and_then(Value::as_str) != Some(want_config.as_str()) {
        return Err(ImageError::Inconsistent { what: format!("manifest.json's Config is not {want_config}") });
    }
    let want_layers = json!([format!("{BLOBS}{bottom_hex}"), format!("{BLOBS}{top_hex}")]);
    if item.get("Layers") != Some(&want_layers) {
        return Err(ImageError::Inconsistent {
            what: "manifest.json's Layers are not the manifest's layers".to_owned(),
        });
    }
    let repo_tags: Vec<String> = match item.get("RepoTags").and_then(Value::as_array) {
        None => return Err(ImageError::Tag { reason: "manifest.json has no RepoTags".to_owned() }),
        Some(tags) => tags.iter().map(|t| t.as_str().map(str::to_owned)).collect::<Option<_>>().unwrap_or_default(),
    };
    if repo_tags != [tag.clone()] {
        return Err(ImageError::Tag { reason: format!("manifest.json's RepoTags are {repo_tags:?}, not [{tag:?}]") });
    }
    let repositories = parse_json("repositories", file("repositories"))?;
    if repositories != json!({ REPOSITORY: { &license_id: &top_hex } }) {
        return Err(ImageError::Inconsistent {
            what: format!("repositories does not map {tag} to the top layer {top_hex}"),
        });
    }

    // The config.
    let config_name = format!("{BLOBS}{config_hex} (config)");
    let config = parse_json(&config_name, config_bytes)?;
    for (key, want) in [("architecture", "amd64"), ("os", "linux")] {
        if config.get(key).and_then(Value::as_str) != Some(want) {
            return Err(ImageError::Layout { reason: format!("the config's {key} is not {want}") });
        }
    }
    let rootfs = config.get("rootfs").unwrap_or(&Value::Null);
    if rootfs.get("type").and_then(Value::as_str) != Some("layers") {
        return Err(ImageError::Inconsistent { what: "the config's rootfs.type is not \"layers\"".to_owned() });
    }
    let diff_ids = rootfs.get("diff_ids").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if diff_ids.len() != 2 {
        return Err(ImageError::Inconsistent { what: "the config's rootfs.diff_ids must list two layers".to_owned() });
    }
    for (index, (diff_id, actual)) in diff_ids.iter().zip([&bottom_hex, &top_hex]).enumerate() {
        if diff_id.as_str() != Some(format!("sha256:{actual}").as_str()) {
            return Err(ImageError::DiffId { index, expected: diff_id.to_string(), actual: actual.clone() });
        }
    }
    let image_config = read_config(config.get("config").unwrap_or(&Value::Null))?;
    check_fixed_config(&image_config)?;

    let server_binary_len = check_bottom_layer(bottom)?;
    let top_files = read_top_layer(top)?;

    Ok(ImageTar {
        repo_tags,
        license_id,
        manifest_digest: format!("sha256:{manifest_hex}"),
        config_digest: format!("sha256:{config_hex}"),
        config: image_config,
        base_layer_digest: format!("sha256:{bottom_hex}"),
        server_binary_len,
        top_layer_digest: format!("sha256:{top_hex}"),
        files: top_files,
    })
}

pub(super) fn parse_json(name: &str, bytes: &[u8]) -> Result<Value, ImageError> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::BadJson { name: name.to_owned(), reason: e.to_string() })
}

pub(super) fn check_versioned(doc: &Value, name: &str, media_type: &str) -> Result<(), ImageError> {
    if doc.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(ImageError::Layout { reason: format!("{name} is not schemaVersion 2") });
    }
    if doc.get("mediaType").and_then(Value::as_str) != Some(media_type) {
        return Err(ImageError::Inconsistent { what: format!("{name}'s mediaType is not {media_type}") });
    }
    Ok(())
}

/// Checks a descriptor against the blobs (already checked against their
/// names): media type, `sha256:` digest present, size equal. Returns the hex
/// digest and the blob.
pub(super) fn check_descriptor<'b>(
    desc: &Value,
    what: &str,
    media_type: &str,
    blobs: &BTreeMap<String, &'b [u8]>,
) -> Result<(String, &'b [u8]), ImageError> {
    if desc.get("mediaType").and_then(Value::as_str) != Some(media_type) {
        return Err(ImageError::Inconsistent { what: format!("{what}'s mediaType is not {media_type}") });
    }
    let hex = desc
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| d.strip_prefix("sha256:"))
        .filter(|h| is_hex(h, 64))
        .ok_or_else(|| ImageError::Inconsistent { what: format!("{what}'s digest is not sha256:<64 hex digits>") })?;
    let name = format!("{BLOBS}{hex}");
    let blob = blobs.get(hex).copied().ok_or_else(|| ImageError::Missing { name: name.clone() })?;
    let expected = desc
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| ImageError::Inconsistent { what: format!("{what}'s size is not a number") })?;
    if expected != blob.len() as u64 {
        return Err(ImageError::BlobSize { name, expected, actual: blob.len() as u64 });
    }
    Ok((hex.to_owned(), blob))
}

/// The `config` object of the image config.
pub(super) fn read_config(c: &Value) -> Result<ImageConfig, ImageError> {
    let bad =
        |field: &str, want: &str| ImageError::Inconsistent { what: format!("the config's {field} is not {want}") };
    let strings = |field: &str| -> Result<Vec<String>, ImageError> {
        match c.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| bad(field, "a list of strings")),
            Some(_) => Err(bad(field, "a list of strings")),
        }
    };
    let keys = |field: &str| -> Result<Vec<String>, ImageError> {
        match c.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(map)) => Ok(map.keys().cloned().collect()),
            Some(_) => Err(bad(field, "an object")),
        }
    };
    let labels = match c.get("Labels") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("Labels", "an object of strings"))?,
        Some(_) => return Err(bad("Labels", "an object of strings")),
    };
    Ok(ImageConfig {
        entrypoint: strings("Entrypoint")?,
        env: strings("Env")?,
        labels,
        exposed_ports: keys("ExposedPorts")?,
        volumes: keys("Volumes")?,
        working_dir: c.get("WorkingDir").and_then(Value::as_str).unwrap_or_default().to_owned(),
    })
}

/// The parts of the config that are the same in every image fanlic writes.
pub(super) fn check_fixed_config(c: &ImageConfig) -> Result<(), ImageError> {
    let layout = |reason: String| Err(ImageError::Layout { reason });
    if c.entrypoint != [SERVER_PATH] {
        return layout(format!("the entrypoint is {:?}, not [{SERVER_PATH:?}]", c.entrypoint));
    }
    if c.exposed_ports != [format!("{PORT}/tcp")] {
        return layout(format!("the exposed ports are {:?}, not [\"{PORT}/tcp\"]", c.exposed_ports));
    }
    if c.volumes != [CONFIG_DIR] {
        return layout(format!("the volumes are {:?}, not [{CONFIG_DIR:?}]", c.volumes));
    }
    if c.working_dir != WORKING_DIR {
        return layout(format!("the working directory is {:?}, not {WORKING_DIR:?}", c.working_dir));
    }
    Ok(())
}

/// The bottom layer must be exactly what [`BaseLayer::new`] writes; returns
/// the server binary's length.
pub(super) fn check_bottom_layer(tar: &[u8]) -> Result<u64, ImageError> {
    const ARCHIVE: &str = "bottom layer";
    let entries = parse_tar(tar, ARCHIVE)?;
    let expected = [
        (BASE_APP, Kind::Dir, DIR_MODE),
        (BASE_CONFIG, Kind::Dir, CONFIG_DIR_MODE),
        (BASE_SERVER, Kind::File, SERVER_MODE),
    ];
    if entries.len() != expected.len() {
        return Err(ImageError::Layout {
            reason: format!(
                "the bottom layer has {} entries, not {BASE_APP}, {BASE_CONFIG} and {BASE_SERVER}",
                entries.len()
            ),
        });
    }
    let mut len = 0;
    for (e, (name, kind, mode)) in entries.iter().zip(expected) {
        if e.name != name || e.kind != kind || e.mode != mode {
            return Err(ImageError::UnexpectedEntry {
                archive: ARCHIVE,
                name: e.name.clone(),
                reason: format!("expected {name} of mode {mode:#o}"),
            });
        }
        len = e.data.len() as u64;
    }
    Ok(len)
}

/// The top layer's files; every name checked like [`write_image`] checks
/// them, every parent directory present before its children.
pub(super) fn read_top_layer(tar: &[u8]) -> Result<Vec<ImageFile>, ImageError> {
    const ARCHIVE: &str = "top layer";
    let entries = parse_tar(tar, ARCHIVE)?;
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    let mut files = Vec::new();
    for e in &entries {
        let unexpected =
            |reason: String| ImageError::UnexpectedEntry { archive: ARCHIVE, name: e.name.clone(), reason };
        let path = match e.kind {
            Kind::Dir => {
                e.name.strip_suffix('/').ok_or_else(|| unexpected("a directory name must end with /".to_owned()))?
            }
            Kind::File => e.name.as_str(),
        };
        check_path(path).map_err(|reason| unexpected(reason.to_owned()))?;
        if e.mode > 0o777 {
            return Err(unexpected(format!("mode {:#o} has more than permission bits", e.mode)));
        }
        if let Some((parent, _)) = e.name.strip_suffix('/').unwrap_or(&e.name).rsplit_once('/')
            && !dirs.contains(parent)
        {
            return Err(unexpected(format!("its directory {parent}/ is not listed before it")));
        }
        match e.kind {
            Kind::Dir => {
                dirs.insert(path);
            }
            Kind::File if e.name == BASE_SERVER => {
                return Err(unexpected("it would replace the server binary of the bottom layer".to_owned()));
            }
            Kind::File => files.push(ImageFile { path: e.name.clone(), data: e.data.to_vec(), mode: e.mode }),
        }
    }
    Ok(files)
}
