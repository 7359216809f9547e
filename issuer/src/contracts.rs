//! The contract registry: what each customer bought (issue 3, item 1).
