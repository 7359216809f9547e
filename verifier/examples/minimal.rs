//! The smallest product check: `cargo run -p fanlic-verifier --example minimal -- Container.lic root.pub.raw`
//! verifies a license for FineReport 11.0, project `webroot`, one node, and
//! prints each failing cause's code and title (the registration page's).
use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp};
use fanlic_verifier::{Environment, Lang, RootKey, verify};

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(license_path), Some(root_path)) = (args.get(1), args.get(2)) else {
        return Err("usage: minimal Container.lic root.pub.raw".into());
    };
    let license = std::fs::read(license_path)?;
    let root: [u8; 32] = std::fs::read(root_path)?.try_into().map_err(|_| "a root key is 32 bytes")?;
    let roots = [RootKey::from_bytes(&root)?];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let env = Environment {
        app_name: "FineReport",
        version: "11.0.20", // matched on major.minor
        project: "webroot",
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: Timestamp(now),
        last_seen: None, // the latest time this product saw before, to catch a clock set back
    };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN]; // no allocator needed: the caller's buffer
    match verify(&license, &mut buf, &roots, &env) {
        Ok(verified) => println!("valid: registered to {}", verified.license.company),
        Err(rejection) => {
            for cause in rejection.causes() {
                println!("{}: {}", cause.code(), cause.title(Lang::En));
            }
        }
    }
    Ok(())
}
