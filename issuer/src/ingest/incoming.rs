//! One message of a batch, as the pipeline carries it: read whole, or too
//! large to read (then decided as rejected without being read).

use super::source::{IncomingMessage, Receipt};

/// One message of a batch: read, or too large to read.
#[derive(Debug)]
pub enum Incoming {
    /// A message read whole.
    Message(IncomingMessage),
    /// A message over the size limit, not read.
    TooLarge {
        /// Where it came from.
        source: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: usize,
        /// Its receipt.
        receipt: Receipt,
        /// Its first bytes, kept with the decision as a record.
        head: Vec<u8>,
    },
}

impl Incoming {
    pub(crate) fn source(&self) -> &str {
        match self {
            Incoming::Message(m) => &m.source,
            Incoming::TooLarge { source, .. } => source,
        }
    }

    pub(crate) fn receipt(&self) -> &Receipt {
        match self {
            Incoming::Message(m) => &m.receipt,
            Incoming::TooLarge { receipt, .. } => receipt,
        }
    }

    pub(crate) fn raw(&self) -> &[u8] {
        match self {
            Incoming::Message(m) => &m.raw,
            Incoming::TooLarge { head, .. } => head,
        }
    }

    /// The message's full size in bytes.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Incoming::Message(m) => u64::try_from(m.raw.len()).unwrap_or(u64::MAX),
            Incoming::TooLarge { size, .. } => *size,
        }
    }
}
