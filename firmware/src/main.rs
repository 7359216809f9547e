//! A firmware-style binary that verifies one license on a Cortex-M4F
//! (thumbv7em-none-eabihf), to measure what the verifier costs in flash.
//!
//! It embeds the TEST-ONLY root key A and the `valid-local-container` vector
//! from `../fixtures`, verifies the license against a fixed environment and
//! "now" in a loop, and stores the outcome where the optimizer cannot drop it.
//! Nothing here is for a real product: the root key is a published test key.
#![no_std]
#![no_main]

use core::{
    hint::black_box,
    sync::atomic::{AtomicU32, Ordering},
};

use cortex_m_rt::entry;
use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp};
use fanlic_verifier::{Environment, RootKey, verify};
use panic_halt as _;

/// The license, armored, as a product reads `Container.lic`.
static LICENSE: &[u8] = include_bytes!("../../fixtures/vectors/valid-local-container.lic");
/// The root public key the product embeds (TEST-ONLY key `root-a`).
static ROOT_KEY: &[u8; 32] = include_bytes!("../../fixtures/keys/root-a.pub.raw");

/// The outcome of the last verification: `max_nodes` of the license when it
/// is valid, else `0x8000_0000 | number of causes`. `0` before the first run,
/// `0xffff_ffff` if the embedded root key is not a key. Exported by name so
/// a debugger can read it, and so the optimizer must keep every store.
#[unsafe(no_mangle)]
static OUTCOME: AtomicU32 = AtomicU32::new(0);
/// Bytes of cause messages formatted by the last run (feature `messages`).
#[cfg(feature = "messages")]
#[unsafe(no_mangle)]
static MESSAGE_LEN: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    let Ok(root) = RootKey::from_bytes(black_box(ROOT_KEY)) else {
        OUTCOME.store(u32::MAX, Ordering::SeqCst);
        loop {
            core::hint::spin_loop();
        }
    };
    let roots = [root];
    loop {
        let env = Environment {
            app_name: "FineReport",
            version: "11.0.20",
            project: "webroot",
            nodes: 1,
            method: LicenseKind::LocalContainer,
            // 2026-06-01T00:00:00Z: a product gets this from its RTC.
            now: Timestamp(black_box(1_780_272_000)),
            last_seen: None,
        };
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let outcome = match verify(black_box(LICENSE), &mut buf, &roots, &env) {
            Ok(license) => license.license.max_nodes,
            Err(rejection) => {
                #[cfg(feature = "messages")]
                MESSAGE_LEN.store(messages::format(&rejection), Ordering::SeqCst);
                0x8000_0000 | rejection.all().len() as u32
            }
        };
        OUTCOME.store(black_box(outcome), Ordering::SeqCst);
        #[cfg(feature = "qemu")]
        qemu::report(outcome);
    }
}

#[cfg(feature = "qemu")]
mod qemu {
    use cortex_m_semihosting::{debug, hprintln};

    unsafe extern "C" {
        // From cortex-m-rt's link.x: the RAM between them is painted with
        // 0xcccccccc at reset (feature `paint-stack`).
        static __sheap: u32;
        static _stack_start: u32;
    }

    /// Prints the outcome and how much stack the verification used, then
    /// ends the emulator: success when the license verified. (Returns only
    /// where semihosting cannot end the program, e.g. on a real board.)
    pub fn report(outcome: u32) {
        let bottom = &raw const __sheap as usize;
        let top = &raw const _stack_start as usize;
        let mut p = bottom;
        // SAFETY: every address from __sheap to _stack_start is RAM we own.
        while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == 0xcccc_cccc {
            p += 4;
        }
        let valid = outcome != 0 && outcome & 0x8000_0000 == 0;
        hprintln!(
            "fanlic-firmware: OUTCOME = {:#010x} ({}), stack used = {} bytes",
            outcome,
            if valid { "license valid" } else { "license rejected" },
            top - p
        );
        debug::exit(if valid { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    }
}

#[cfg(feature = "messages")]
mod messages {
    use core::fmt::Write;

    /// A fixed buffer that `core::fmt` writes into; what does not fit is cut.
    struct Line {
        buf: [u8; 256],
        len: usize,
    }

    impl Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let room = self.buf.len() - self.len;
            let n = s.len().min(room);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }

    /// Formats every cause as `code: message`, as a product's display would,
    /// and returns the bytes written in all.
    pub fn format(rejection: &fanlic_verifier::Rejection<'_>) -> u32 {
        let mut total = 0;
        for cause in rejection.causes() {
            let mut line = Line { buf: [0; 256], len: 0 };
            let _ = write!(line, "{}: {cause}", cause.code());
            total += core::hint::black_box(&line).len as u32;
        }
        total
    }
}
