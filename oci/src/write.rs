//! Writing the image: the bottom and top layers, the config, the
//! manifest, the index and Docker's files, hashed as they are written.

use super::tar::*;
use super::*;

/// Writes the image tar for `spec` on top of `base` to `out`. Every input is
/// checked before the first byte is written, so a refused spec leaves `out`
/// untouched. Equal inputs give equal bytes.
pub fn write_image(base: &BaseLayer, spec: &ImageSpec<'_>, out: &mut impl Write) -> Result<ImageDigest, ImageError> {
    check_license_id(spec.license_id)?;
    for entry in &spec.env {
        let name = entry.split_once('=').map(|(n, _)| n).unwrap_or_default();
        if name.is_empty() || entry.contains('\0') {
            return Err(ImageError::BadEnv { entry: entry.clone() });
        }
    }
    for (key, value) in &spec.labels {
        if key.is_empty() || key.contains('\0') || value.contains('\0') {
            return Err(ImageError::BadLabel { key: key.clone() });
        }
    }
    let top = top_layer(spec.files)?;
    let top_hex = sha256_hex(&top);
    let id = spec.license_id;
    let tag = format!("{REPOSITORY}:{id}");

    let config = to_json(
        "the image config",
        &json!({
            "architecture": "amd64",
            "os": "linux",
            "created": EPOCH,
            "config": {
                "Entrypoint": [SERVER_PATH],
                "Env": spec.env,
                "ExposedPorts": { format!("{PORT}/tcp"): {} },
                "Labels": spec.labels,
                "Volumes": { CONFIG_DIR: {} },
                "WorkingDir": WORKING_DIR,
            },
            "rootfs": { "type": "layers", "diff_ids": [base.digest(), format!("sha256:{top_hex}")] },
            "history": [
                { "created": EPOCH, "created_by": "fanlic: the license server binary" },
                { "created": EPOCH, "created_by": "fanlic: the customer's license files" },
            ],
        }),
    )?;
    let config_hex = sha256_hex(&config);
    let manifest = to_json(
        "the OCI manifest",
        &json!({
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": descriptor(MT_CONFIG, &config_hex, &config),
            "layers": [
                { "mediaType": MT_LAYER, "digest": base.digest(), "size": base.len() },
                descriptor(MT_LAYER, &top_hex, &top),
            ],
        }),
    )?;
    let manifest_hex = sha256_hex(&manifest);
    let mut manifest_descriptor = descriptor(MT_MANIFEST, &manifest_hex, &manifest);
    if let Value::Object(map) = &mut manifest_descriptor {
        map.insert(
            "annotations".to_owned(),
            json!({ ANN_IMAGE_NAME: format!("{DEFAULT_REGISTRY}{tag}"), ANN_REF_NAME: id }),
        );
    }
    let index = to_json(
        "index.json",
        &json!({ "schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [manifest_descriptor] }),
    )?;
    // Docker writes these two with Go's json.Encoder: a trailing newline.
    let mut docker_manifest = to_json(
        "manifest.json",
        &json!([{
            "Config": format!("{BLOBS}{config_hex}"),
            "RepoTags": [tag],
            "Layers": [format!("{BLOBS}{}", base.hex), format!("{BLOBS}{top_hex}")],
        }]),
    )?;
    docker_manifest.push(b'\n');
    let mut repositories = to_json("repositories", &json!({ REPOSITORY: { id: top_hex } }))?;
    repositories.push(b'\n');

    let mut blobs: BTreeMap<&str, &[u8]> = BTreeMap::new();
    blobs.insert(&base.hex, &base.tar);
    blobs.insert(&top_hex, &top);
    blobs.insert(&config_hex, &config);
    blobs.insert(&manifest_hex, &manifest);

    let mut w = HashingWriter { inner: out, hash: Context::new(&SHA256), len: 0 };
    write_entry(&mut w, "blobs/", Kind::Dir, DIR_MODE, &[])?;
    write_entry(&mut w, BLOBS, Kind::Dir, DIR_MODE, &[])?;
    for (hex, data) in &blobs {
        write_entry(&mut w, &format!("{BLOBS}{hex}"), Kind::File, OUTER_FILE_MODE, data)?;
    }
    write_entry(&mut w, "index.json", Kind::File, OUTER_FILE_MODE, &index)?;
    write_entry(&mut w, "manifest.json", Kind::File, OUTER_FILE_MODE, &docker_manifest)?;
    write_entry(&mut w, "oci-layout", Kind::File, OUTER_FILE_MODE, OCI_LAYOUT)?;
    write_entry(&mut w, "repositories", Kind::File, OUTER_FILE_MODE, &repositories)?;
    w.write_all(&[0; 2 * BLOCK])?;
    w.flush()?;

    Ok(ImageDigest {
        tag,
        tar_sha256: format!("sha256:{}", hex(w.hash.finish().as_ref())),
        tar_len: w.len,
        manifest: format!("sha256:{manifest_hex}"),
        config: format!("sha256:{config_hex}"),
        base_layer: base.digest(),
        top_layer: format!("sha256:{top_hex}"),
    })
}

/// Passes bytes to `inner`, hashing and counting them.
pub(super) struct HashingWriter<'w, W: Write> {
    inner: &'w mut W,
    hash: Context,
    len: u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or_default();
        self.hash.update(written);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub(super) fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&SHA256, data).as_ref())
}

pub(super) fn descriptor(media_type: &str, hex: &str, data: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": format!("sha256:{hex}"), "size": data.len() })
}

/// Compact JSON with every object's keys sorted, whether or not serde_json's
/// `preserve_order` is on (the issuer turns it on, so maps keep insertion
/// order; rebuilding them from a `BTreeMap` inserts in sorted order).
pub(super) fn to_json(what: &'static str, value: &Value) -> Result<Vec<u8>, ImageError> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let by_key: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(by_key.into_iter().map(|(k, v)| (k.clone(), v)).collect::<Map<_, _>>())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sorted(value)).map_err(|e| ImageError::Encode { what, reason: e.to_string() })
}

/// The mode a directory of the top layer gets: the bottom layer's for the
/// directories it has (so the volume stays 0700), 0755 otherwise.
pub(super) fn dir_mode(dir: &str) -> u32 {
    if dir == BASE_CONFIG { CONFIG_DIR_MODE } else { DIR_MODE }
}

/// The top layer's tar: the files and every parent directory, sorted.
pub(super) fn top_layer(files: &[ImageFile]) -> Result<Vec<u8>, ImageError> {
    let mut entries: BTreeMap<String, (Kind, u32, &[u8])> = BTreeMap::new();
    let mut file_names = BTreeSet::new();
    for f in files {
        check_path(&f.path).map_err(|reason| ImageError::BadPath { path: f.path.clone(), reason })?;
        if f.mode > 0o777 {
            return Err(ImageError::BadMode { path: f.path.clone(), mode: f.mode });
        }
        if [BASE_APP, BASE_CONFIG].contains(&format!("{}/", f.path).as_str()) || f.path == BASE_SERVER {
            return Err(ImageError::ReservedPath { path: f.path.clone() });
        }
        if entries.insert(f.path.clone(), (Kind::File, f.mode, &f.data)).is_some() {
            return Err(ImageError::DuplicatePath { path: f.path.clone() });
        }
        file_names.insert(f.path.as_str());
        for (i, _) in f.path.match_indices('/') {
            let dir = f.path.get(..=i).unwrap_or_default().to_owned();
            let mode = dir_mode(&dir);
            entries.insert(dir, (Kind::Dir, mode, &[]));
        }
    }
    // A file that is also another file's directory.
    if let Some(clash) = file_names.iter().find(|f| entries.contains_key(&format!("{f}/"))) {
        return Err(ImageError::DuplicatePath { path: (*clash).to_owned() });
    }
    let mut tar = Vec::new();
    for (name, (kind, mode, data)) in &entries {
        write_entry(&mut tar, name, *kind, *mode, data)?;
    }
    tar.extend_from_slice(&[0; 2 * BLOCK]);
    Ok(tar)
}
