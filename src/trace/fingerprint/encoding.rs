//! The binary encoding a fingerprint hashes: a serde `Serializer` that appends a value's bytes to a
//! buffer, with no field names and no allocation. It only has to be unambiguous for values of one
//! type, and fast: a run encodes every one of its events.
//!
//! - integers, `char`, floats (as their IEEE bits): 8 little-endian bytes (16 for 128-bit ones);
//!   `bool`: one byte;
//! - strings and byte strings: their length (8 bytes), then the bytes;
//! - `None`: byte 0; `Some(v)`: byte 1, then `v`; unit values: nothing;
//! - enum variants: the variant's index (8 bytes), then its contents;
//! - sequences, tuples and maps of known length: the length (8 bytes), then the elements (a map's
//!   as key, value); of unknown length (as `#[serde(flatten)]` makes): byte 1 before each element
//!   and byte 0 after the last;
//! - struct fields: byte 1 then the value, or byte 0 for a field skipped by
//!   `skip_serializing_if`, in declaration order. (The marker keeps two adjacent optional fields
//!   apart; the price is that a new optional field, even absent, changes the encoding of the
//!   struct that gains it, and so the fingerprint of a run whose header holds one.)

use serde::ser::{self, Serialize};
use std::fmt;

/// Appends `value`'s encoding to `out`. Fails only if a `Serialize` implementation itself fails.
pub fn encode<S: Serialize + ?Sized>(value: &S, out: &mut Vec<u8>) -> Result<(), Error> {
    value.serialize(&mut Encoder { out })
}

/// A `Serialize` implementation reported an error of its own.
#[derive(Debug)]
pub struct Error(Box<str>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // A boxed str keeps `Result<(), Error>` to two words, returned in registers: every field of
        // every line returns one.
        Error(msg.to_string().into_boxed_str())
    }
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    #[inline]
    fn word(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        self.out.extend_from_slice(b);
    }
}

/// A compound value under way; `known` says whether its length was written up front.
struct Compound<'e, 'a> {
    enc: &'e mut Encoder<'a>,
    known: bool,
}

impl Compound<'_, '_> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.known {
            self.enc.byte(1);
        }
        value.serialize(&mut *self.enc)
    }

    #[inline]
    fn close(self) -> Result<(), Error> {
        if !self.known {
            self.enc.byte(0);
        }
        Ok(())
    }
}

impl<'e, 'a> ser::Serializer for &'e mut Encoder<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'e, 'a>;
    type SerializeTuple = Compound<'e, 'a>;
    type SerializeTupleStruct = Compound<'e, 'a>;
    type SerializeTupleVariant = Compound<'e, 'a>;
    type SerializeMap = Compound<'e, 'a>;
    type SerializeStruct = Compound<'e, 'a>;
    type SerializeStructVariant = Compound<'e, 'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.byte(u8::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.word(v as u64);
        Ok(())
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.word(u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.word(u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.word(u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.word(v);
        Ok(())
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.word(f64::from(v).to_bits());
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.word(v.to_bits());
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.word(u64::from(v));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.bytes(v.as_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.bytes(v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        self.byte(0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.byte(1);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), Error> {
        self.word(u64::from(index));
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.word(u64::from(index));
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e, 'a>, Error> {
        if let Some(n) = len {
            self.word(n as u64);
        }
        Ok(Compound {
            enc: self,
            known: len.is_some(),
        })
    }
    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'e, 'a>, Error> {
        // A tuple's length is fixed by its type.
        Ok(Compound {
            enc: self,
            known: true,
        })
    }
    #[inline]
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'a>, Error> {
        Ok(Compound {
            enc: self,
            known: true,
        })
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'a>, Error> {
        self.word(u64::from(index));
        Ok(Compound {
            enc: self,
            known: true,
        })
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e, 'a>, Error> {
        self.serialize_seq(len)
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'e, 'a>, Error> {
        Ok(Compound {
            enc: self,
            known: true,
        })
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'a>, Error> {
        self.word(u64::from(index));
        Ok(Compound {
            enc: self,
            known: true,
        })
    }
}

/// Sequences, tuples and their struct and variant forms all encode their elements the same way.
macro_rules! elements {
    ($($trait:ident :: $method:ident),+) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            #[inline]
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )+};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.element(key)
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.enc)
    }
    #[inline]
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A struct's fields and a struct variant's: a present or skipped marker, then the value.
macro_rules! fields {
    ($($trait:ident),+) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.enc.byte(1);
                value.serialize(&mut *self.enc)
            }
            #[inline]
            fn skip_field(&mut self, _key: &'static str) -> Result<(), Error> {
                self.enc.byte(0);
                Ok(())
            }
            #[inline]
            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )+};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn bytes<S: Serialize>(v: &S) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out
    }

    #[derive(Serialize)]
    struct Opt {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<u64>,
        b: u64,
    }

    #[derive(Serialize)]
    #[serde(tag = "kind")]
    enum Tagged {
        One { x: u32 },
        Two { x: u32 },
    }

    #[derive(Serialize)]
    struct Flat {
        a: u32,
        #[serde(flatten)]
        rest: BTreeMap<String, u32>,
    }

    #[test]
    fn integers_are_fixed_width_little_endian() {
        assert_eq!(bytes(&1u8), 1u64.to_le_bytes());
        assert_eq!(bytes(&-1i32), u64::MAX.to_le_bytes());
        assert_eq!(bytes(&true), [1]);
    }

    #[test]
    fn values_of_one_type_encode_apart() {
        // A skipped field is not confused with a present one.
        assert_ne!(
            bytes(&Opt { a: None, b: 5 }),
            bytes(&Opt { a: Some(5), b: 5 })
        );
        assert_ne!(bytes(&Opt { a: None, b: 1 }), bytes(&Opt { a: None, b: 2 }));
        // Internally tagged variants differ by their tag.
        assert_ne!(bytes(&Tagged::One { x: 1 }), bytes(&Tagged::Two { x: 1 }));
        // Strings are length-prefixed: ("ab", "c") is not ("a", "bc").
        assert_ne!(bytes(&("ab", "c")), bytes(&("a", "bc")));
        assert_ne!(bytes(&vec![1u8, 2]), bytes(&vec![1u8]));
        assert_ne!(bytes(&Some(0u64)), bytes(&None::<u64>));
    }

    #[test]
    fn maps_of_unknown_length_are_delimited() {
        let flat = |pairs: &[(&str, u32)]| Flat {
            a: 1,
            rest: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let one = bytes(&flat(&[("x", 7)]));
        assert_eq!(one, bytes(&flat(&[("x", 7)])));
        assert_ne!(one, bytes(&flat(&[("x", 8)])));
        assert_ne!(one, bytes(&flat(&[("x", 7), ("y", 0)])));
        assert_ne!(bytes(&flat(&[])), one);
    }
}
