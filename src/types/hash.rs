//! A Redis hash value: fields to values, in the order Redis would list them.
//!
//! # Design
//!
//! Redis keeps a small hash as a listpack: fields in insertion order, a replaced value
//! staying in place, a deleted field closing the gap. `HGETALL`, `HKEYS` and `HVALS` list
//! that order, so a small `HashValue` is a plain vector of pairs searched linearly, which
//! is also the fastest and most compact form at that size. Past the listpack limits in force
//! when a field is written ([`HashLimits`]: `hash-max-listpack-entries` and
//! `hash-max-listpack-value`, by default 512 fields and 64 bytes) it becomes a hash map, where
//! Redis's order is its own hash table's and clients must not rely on it. Raising the limits
//! keeps larger hashes ordered, as Redis keeps them listpacks; like Redis, a map never turns
//! back into the small form.
//!
//! # Representation
//!
//! ```text
//! Small: [(f1, v1), (f2, v2), ...]   insertion order, linear search
//! Large: HashMap<field, value>        unordered
//! ```

use std::collections::HashMap;

/// Fields beyond this count turn a small hash into a map (Redis `hash-max-listpack-entries`).
pub const MAX_SMALL_ENTRIES: usize = 512;
/// A field or value longer than this turns a small hash into a map (`hash-max-listpack-value`).
pub const MAX_SMALL_VALUE: usize = 64;

/// The listpack limits a write checks: past either, a small hash becomes a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    /// Most fields of a small hash (`hash-max-listpack-entries`).
    pub entries: usize,
    /// Longest field or value of a small hash (`hash-max-listpack-value`).
    pub value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            entries: MAX_SMALL_ENTRIES,
            value: MAX_SMALL_VALUE,
        }
    }
}

/// A Redis hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HashValue {
    /// Insertion-ordered pairs.
    Small(Vec<(Vec<u8>, Vec<u8>)>),
    /// A map, for large hashes.
    Large(HashMap<Vec<u8>, Vec<u8>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Small(Vec::new())
    }
}

impl HashValue {
    /// An empty hash.
    pub fn new() -> HashValue {
        HashValue::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashValue::Small(v) => v.len(),
            HashValue::Large(m) => m.len(),
        }
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the value uses the ordered small form.
    pub fn is_small(&self) -> bool {
        matches!(self, HashValue::Small(_))
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Small(v) => v
                .iter()
                .find(|(f, _)| f.as_slice() == field)
                .map(|(_, v)| v.as_slice()),
            HashValue::Large(m) => m.get(field).map(Vec::as_slice),
        }
    }

    /// Sets `field` under the default limits; returns true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.insert_within(field, value, HashLimits::default())
    }

    /// Sets `field`, turning a small hash into a map past `limits`; returns true when the
    /// field is new.
    pub fn insert_within(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if let HashValue::Small(v) = self {
            if let Some(pair) = v.iter_mut().find(|(f, _)| f.as_slice() == field) {
                pair.1.clear();
                pair.1.extend_from_slice(value);
                self.maybe_grow(field.len().max(value.len()), limits);
                return false;
            }
            v.push((field.to_vec(), value.to_vec()));
            self.maybe_grow(field.len().max(value.len()), limits);
            return true;
        }
        match self {
            HashValue::Large(m) => m.insert(field.to_vec(), value.to_vec()).is_none(),
            HashValue::Small(_) => false,
        }
    }

    fn maybe_grow(&mut self, longest: usize, limits: HashLimits) {
        if let HashValue::Small(v) = self {
            if v.len() > limits.entries || longest > limits.value {
                let map = std::mem::take(v).into_iter().collect();
                *self = HashValue::Large(map);
            }
        }
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Small(v) => match v.iter().position(|(f, _)| f.as_slice() == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            HashValue::Large(m) => m.remove(field).is_some(),
        }
    }

    /// Every (field, value) pair, in Redis's listing order for small hashes.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            HashValue::Small(v) => Box::new(v.iter().map(|(f, v)| (f.as_slice(), v.as_slice()))),
            HashValue::Large(m) => Box::new(m.iter().map(|(f, v)| (f.as_slice(), v.as_slice()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_keeps_insertion_order_and_replaces_in_place() {
        let mut h = HashValue::new();
        assert!(h.insert(b"b", b"1"));
        assert!(h.insert(b"a", b"2"));
        assert!(!h.insert(b"b", b"3"));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"b"[..], &b"3"[..]), (&b"a"[..], &b"2"[..])]);
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 1);
        assert!(h.is_small());
    }

    #[test]
    fn grows_to_a_map_past_the_listpack_limits() {
        let mut h = HashValue::new();
        for i in 0..=MAX_SMALL_ENTRIES {
            h.insert(i.to_string().as_bytes(), b"v");
        }
        assert!(!h.is_small());
        assert_eq!(h.len(), MAX_SMALL_ENTRIES + 1);
        let mut h = HashValue::new();
        h.insert(b"f", &[b'x'; MAX_SMALL_VALUE + 1]);
        assert!(!h.is_small());
        assert_eq!(h.get(b"f").map(<[u8]>::len), Some(MAX_SMALL_VALUE + 1));
    }

    #[test]
    fn raised_limits_keep_large_values_in_order_and_a_map_stays_a_map() {
        let wide = HashLimits {
            entries: 4,
            value: 1 << 20,
        };
        let mut h = HashValue::new();
        let long = vec![b'x'; 65535];
        for f in [&b"z"[..], b"a", b"m"] {
            assert!(h.insert_within(f, &long, wide));
        }
        assert!(h.is_small());
        let fields: Vec<_> = h.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![&b"z"[..], b"a", b"m"]);
        h.insert_within(b"b", b"1", wide);
        h.insert_within(b"c", b"1", wide);
        assert!(!h.is_small());
        h.remove(b"c");
        h.insert_within(b"c", b"1", wide);
        assert!(!h.is_small());
    }
}
