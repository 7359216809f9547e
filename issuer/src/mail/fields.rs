//! The registration fields of a request mail: labels in English and Chinese.
