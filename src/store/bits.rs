//! Bit semantics on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. The bit arithmetic lives in `crate::types::bitmap`; this layer finds the
//! string, enforces the store's string-size limit and decides when a key is created.

use super::value::{StrValue, Value};
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
pub use crate::types::bitmap::BitfieldOp;
use crate::types::bitmap::{
    self, BitOp, BitUnit, BitfieldOffset, BitfieldType, BitposRange, Overflow,
};

fn bit_offset_error() -> Error {
    Error::other(bitmap::BitmapError::BitOffset.text())
}

impl Db<'_> {
    /// The string bytes at `key` for reading: None when missing, WRONGTYPE for another type.
    fn read_string(&mut self, key: &[u8]) -> Result<Option<std::borrow::Cow<'_, [u8]>>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.bytes())),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// The raw string at `key` for writing, created empty when missing and grown with zero
    /// bytes to at least `min_len` (which the caller has checked against the limit). An
    /// existing string is not marked modified for WATCH: the caller does that when the
    /// write changed something, as Redis does.
    fn write_string(&mut self, key: &[u8], min_len: usize) -> Result<&mut Vec<u8>> {
        match self.value(key) {
            None => self.insert(key, Value::Str(StrValue::Raw(Vec::new())), None),
            Some(Value::Str(_)) => {}
            Some(_) => return Err(Error::WrongType),
        }
        match self.value(key) {
            Some(Value::Str(s)) => {
                let raw = s.raw_mut();
                if raw.len() < min_len {
                    raw.resize(min_len, 0);
                }
                Ok(raw)
            }
            _ => Err(Error::WrongType),
        }
    }

    /// Checks that a write reaching byte length `len` fits the store's string limit.
    fn check_len(&self, len: u64) -> Result<usize> {
        let max = self.settings().max_string_bytes() as u64;
        if len > max.saturating_add(super::strings::BIT_WRITE_SLACK) {
            return Err(bit_offset_error());
        }
        usize::try_from(len).map_err(|_| bit_offset_error())
    }

    fn check_offset(&self, offset: u64) -> Result<()> {
        bitmap::check_bit_offset(offset).map_err(|_| bit_offset_error())?;
        if (offset >> 3) >= self.settings().max_string_bytes() as u64 {
            return Err(bit_offset_error());
        }
        Ok(())
    }

    /// SETBIT: the old bit.
    pub(crate) fn setbit(&mut self, key: &[u8], offset: u64, bit: bool) -> Result<u8> {
        self.check_offset(offset)?;
        let len = self.check_len((offset >> 3) + 1)?;
        // As in Redis, writing the bit a string already has, without growing it, modifies
        // nothing: no WATCH is invalidated. The string still becomes `raw`, as Redis
        // unshares it before looking at the bit.
        if let Some(bytes) = self.read_string(key)? {
            let old = bitmap::getbit(&bytes, offset);
            if bytes.len() >= len && old == u8::from(bit) {
                if let Some(Value::Str(s @ (StrValue::Int(_) | StrValue::Short(_)))) =
                    self.value(key)
                {
                    s.raw_mut();
                }
                return Ok(old);
            }
        }
        let raw = self.write_string(key, len)?;
        let old = bitmap::setbit(raw, offset, u8::from(bit));
        self.touch(key);
        self.notify(notify::STRING, "setbit", key);
        Ok(old)
    }

    /// GETBIT.
    pub(crate) fn getbit(&mut self, key: &[u8], offset: u64) -> Result<u8> {
        Ok(self
            .read_string(key)?
            .map_or(0, |b| bitmap::getbit(&b, offset)))
    }

    /// BITCOUNT over a checked range.
    pub(crate) fn bitcount(
        &mut self,
        key: &[u8],
        range: Option<(i64, i64, BitUnit)>,
    ) -> Result<i64> {
        Ok(self
            .read_string(key)?
            .map_or(0, |b| bitmap::bitcount(&b, range)))
    }

    /// BITPOS.
    pub(crate) fn bitpos(
        &mut self,
        key: &[u8],
        bit: u8,
        range: Option<BitposRange>,
    ) -> Result<i64> {
        Ok(match self.read_string(key)? {
            None => bitmap::bitpos_missing_key(bit),
            Some(b) => bitmap::bitpos(&b, bit, range),
        })
    }

    /// BITOP: the destination's new length; an empty result deletes the destination.
    pub(crate) fn bitop(&mut self, op: BitOp, dest: &[u8], sources: &[&[u8]]) -> Result<usize> {
        let mut data: Vec<Vec<u8>> = Vec::with_capacity(sources.len());
        for s in sources {
            data.push(
                self.read_string(s)?
                    .map(|b| b.into_owned())
                    .unwrap_or_default(),
            );
        }
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let out = bitmap::bitop(op, &refs);
        let n = out.len();
        if n == 0 {
            if self.remove(dest).is_some() {
                self.notify(notify::GENERIC, "del", dest);
            }
        } else {
            self.insert(dest, Value::Str(StrValue::Raw(out)), None);
            self.notify(notify::STRING, "set", dest);
        }
        Ok(n)
    }

    /// BITFIELD: one entry per GET/SET/INCRBY, `None` where OVERFLOW FAIL refused a write.
    ///
    /// Every offset is resolved and checked against the string limit before the key is looked
    /// up, as Redis checks them while it parses the arguments.
    pub(crate) fn bitfield(&mut self, key: &[u8], ops: &[BitfieldOp]) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(ops.len());
        self.bitfield_into(key, ops, &mut out)?;
        Ok(out)
    }

    /// BITFIELD with its reply in `out` (cleared first, its allocation reused).
    pub(crate) fn bitfield_into(
        &mut self,
        key: &[u8],
        ops: &[BitfieldOp],
        out: &mut Vec<Option<i64>>,
    ) -> Result<()> {
        out.clear();
        let mut need: u64 = 0;
        let mut has_writes = false;
        for op in ops {
            if let Some(field) = op.field() {
                let (ty, offset) = field.map_err(|_| bit_offset_error())?;
                self.check_offset(offset)?;
                if op.is_write() {
                    has_writes = true;
                    need = need.max(ty.write_len(offset));
                }
            }
        }
        // Offsets resolved a second time cannot fail: the loop above checked each one.
        let field = |ty: BitfieldType, o: BitfieldOffset| o.resolve(ty).unwrap_or(0);
        if !has_writes {
            // Read in place: a GET-only program never copies the string.
            let bytes = self.read_string(key)?.unwrap_or_default();
            for op in ops {
                if let BitfieldOp::Get(ty, o) = *op {
                    out.push(Some(bitmap::bitfield_get(&bytes, ty, field(ty, o))));
                }
            }
            return Ok(());
        }
        let len = self.check_len(need)?;
        // An existing string is looked up once; a missing one is created, then written.
        let run = |s: &mut StrValue, before: Option<usize>, out: &mut Vec<Option<i64>>| {
            let raw = s.raw_mut();
            if raw.len() < len {
                raw.resize(len, 0);
            }
            // Redis counts a write as a change when it created or grew the string, or when
            // it changed the field's value.
            let grown = before.is_none_or(|n| n < raw.len());
            let mut changes = 0usize;
            let mut overflow = Overflow::Wrap;
            for op in ops {
                match *op {
                    BitfieldOp::Overflow(o) => overflow = o,
                    BitfieldOp::Get(ty, o) => {
                        out.push(Some(bitmap::bitfield_get(raw, ty, field(ty, o))))
                    }
                    BitfieldOp::Set(ty, o, v) => {
                        let old = bitmap::bitfield_get(raw, ty, field(ty, o));
                        let r = bitmap::bitfield_set(raw, ty, field(ty, o), v, overflow);
                        let new = bitmap::bitfield_get(raw, ty, field(ty, o));
                        changes += usize::from(r.is_some() && (grown || old != new));
                        out.push(r)
                    }
                    BitfieldOp::IncrBy(ty, o, by) => {
                        let old = bitmap::bitfield_get(raw, ty, field(ty, o));
                        let r = bitmap::bitfield_incrby(raw, ty, field(ty, o), by, overflow);
                        changes += usize::from(r.is_some() && (grown || old != r.unwrap_or(old)));
                        out.push(r)
                    }
                }
            }
            changes
        };
        let changes = match self.value(key) {
            Some(Value::Str(s)) => {
                let before = s.len();
                run(s, Some(before), out)
            }
            Some(_) => return Err(Error::WrongType),
            None => {
                self.insert(key, Value::Str(StrValue::Raw(Vec::new())), None);
                match self.value(key) {
                    Some(Value::Str(s)) => run(s, None, out),
                    _ => return Err(Error::WrongType),
                }
            }
        };
        if changes > 0 {
            self.touch(key);
            self.notify_n(notify::STRING, "setbit", key, changes as u64);
        }
        Ok(())
    }
}

impl Store {
    /// SETBIT: sets bit `offset` (0 is the most significant bit of the first byte); returns
    /// the old bit.
    pub fn setbit(&self, key: impl AsRef<[u8]>, offset: u64, bit: bool) -> Result<u8> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.setbit(key, offset, bit))
    }

    /// GETBIT.
    pub fn getbit(&self, key: impl AsRef<[u8]>, offset: u64) -> Result<u8> {
        let key = key.as_ref();
        self.with_key(key, |db| db.getbit(key, offset))
    }

    /// BITCOUNT, optionally over `start..=end` in bytes or bits.
    pub fn bitcount(
        &self,
        key: impl AsRef<[u8]>,
        range: Option<(i64, i64, BitUnit)>,
    ) -> Result<i64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bitcount(key, range))
    }

    /// BITPOS.
    pub fn bitpos(
        &self,
        key: impl AsRef<[u8]>,
        bit: bool,
        range: Option<BitposRange>,
    ) -> Result<i64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bitpos(key, u8::from(bit), range))
    }

    /// BITOP: stores the result in `dest` and returns its length.
    pub fn bitop<K: AsRef<[u8]>>(
        &self,
        op: BitOp,
        dest: impl AsRef<[u8]>,
        sources: &[K],
    ) -> Result<usize> {
        self.check_memory(true)?;
        let dest = dest.as_ref();
        let sources: Vec<&[u8]> = sources.iter().map(AsRef::as_ref).collect();
        op.check_source_count(sources.len())
            .map_err(|e| Error::other(e.text()))?;
        let mut keys = sources.clone();
        keys.push(dest);
        self.with_db(Lock::Keys(&keys), |db| db.bitop(op, dest, &sources))
    }

    /// BITFIELD: one entry per GET, SET and INCRBY of `ops` (OVERFLOW has none), `None` where
    /// `OVERFLOW FAIL` refused a write. An offset is in bits or, as Redis's `#n`, in fields
    /// of the operation's type: `BitfieldOp::Get(ty, BitfieldOffset::Fields(2))`.
    pub fn bitfield(&self, key: impl AsRef<[u8]>, ops: &[BitfieldOp]) -> Result<Vec<Option<i64>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.bitfield(key, ops))
    }

    /// BITFIELD_RO: GETs only.
    pub fn bitfield_ro(
        &self,
        key: impl AsRef<[u8]>,
        fields: &[(BitfieldType, BitfieldOffset)],
    ) -> Result<Vec<i64>> {
        let key = key.as_ref();
        let ops: Vec<BitfieldOp> = fields.iter().map(|&(t, o)| BitfieldOp::Get(t, o)).collect();
        let r = self.with_key(key, |db| db.bitfield(key, &ops))?;
        Ok(r.into_iter().map(|v| v.unwrap_or(0)).collect())
    }
}
