//! A raw message, parsed with mail-parser: addresses, subject, ids, the text body.
