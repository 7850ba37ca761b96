//! IEEE-754 binary32/binary64 arithmetic with RISC-V semantics: rounding modes, exact fflags, canonical NaNs.
//! TEMPORARY host-float stand-in until the exact implementation lands.
#![allow(missing_docs, clippy::all)]
pub const NX: u8 = 1;
pub const UF: u8 = 2;
pub const OF: u8 = 4;
pub const DZ: u8 = 8;
pub const NV: u8 = 16;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RoundingMode {
    Rne = 0,
    Rtz = 1,
    Rdn = 2,
    Rup = 3,
    Rmm = 4,
}
impl RoundingMode {
    pub const fn from_bits(bits: u8) -> Option<RoundingMode> {
        match bits {
            0 => Some(Self::Rne),
            1 => Some(Self::Rtz),
            2 => Some(Self::Rdn),
            3 => Some(Self::Rup),
            4 => Some(Self::Rmm),
            _ => None,
        }
    }
}
pub const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
pub const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;
fn c32(v: f32) -> u32 {
    if v.is_nan() {
        CANONICAL_NAN_F32
    } else {
        v.to_bits()
    }
}
fn c64(v: f64) -> u64 {
    if v.is_nan() {
        CANONICAL_NAN_F64
    } else {
        v.to_bits()
    }
}
macro_rules! bin { ($n32:ident, $n64:ident, $op:tt) => {
    pub fn $n32(a: u32, b: u32, _rm: RoundingMode, _f: &mut u8) -> u32 { c32(f32::from_bits(a) $op f32::from_bits(b)) }
    pub fn $n64(a: u64, b: u64, _rm: RoundingMode, _f: &mut u8) -> u64 { c64(f64::from_bits(a) $op f64::from_bits(b)) }
}}
bin!(f32_add, f64_add, +);
bin!(f32_sub, f64_sub, -);
bin!(f32_mul, f64_mul, *);
bin!(f32_div, f64_div, /);
pub fn f32_sqrt(a: u32, _rm: RoundingMode, _f: &mut u8) -> u32 {
    a
}
pub fn f64_sqrt(a: u64, _rm: RoundingMode, _f: &mut u8) -> u64 {
    a
}
pub fn f32_mul_add(a: u32, b: u32, c: u32, _rm: RoundingMode, _f: &mut u8) -> u32 {
    c32(f32::from_bits(a) * f32::from_bits(b) + f32::from_bits(c))
}
pub fn f64_mul_add(a: u64, b: u64, c: u64, _rm: RoundingMode, _f: &mut u8) -> u64 {
    c64(f64::from_bits(a) * f64::from_bits(b) + f64::from_bits(c))
}
pub fn f32_min(a: u32, b: u32, _f: &mut u8) -> u32 {
    c32(f32::from_bits(a).min(f32::from_bits(b)))
}
pub fn f32_max(a: u32, b: u32, _f: &mut u8) -> u32 {
    c32(f32::from_bits(a).max(f32::from_bits(b)))
}
pub fn f64_min(a: u64, b: u64, _f: &mut u8) -> u64 {
    c64(f64::from_bits(a).min(f64::from_bits(b)))
}
pub fn f64_max(a: u64, b: u64, _f: &mut u8) -> u64 {
    c64(f64::from_bits(a).max(f64::from_bits(b)))
}
pub fn f32_eq(a: u32, b: u32, _f: &mut u8) -> bool {
    f32::from_bits(a) == f32::from_bits(b)
}
pub fn f32_lt(a: u32, b: u32, _f: &mut u8) -> bool {
    f32::from_bits(a) < f32::from_bits(b)
}
pub fn f32_le(a: u32, b: u32, _f: &mut u8) -> bool {
    f32::from_bits(a) <= f32::from_bits(b)
}
pub fn f64_eq(a: u64, b: u64, _f: &mut u8) -> bool {
    f64::from_bits(a) == f64::from_bits(b)
}
pub fn f64_lt(a: u64, b: u64, _f: &mut u8) -> bool {
    f64::from_bits(a) < f64::from_bits(b)
}
pub fn f64_le(a: u64, b: u64, _f: &mut u8) -> bool {
    f64::from_bits(a) <= f64::from_bits(b)
}
pub fn f32_classify(_a: u32) -> u64 {
    0
}
pub fn f64_classify(_a: u64) -> u64 {
    0
}
pub fn f32_to_i32(a: u32, _rm: RoundingMode, _f: &mut u8) -> i32 {
    f32::from_bits(a) as i32
}
pub fn f32_to_u32(a: u32, _rm: RoundingMode, _f: &mut u8) -> u32 {
    f32::from_bits(a) as u32
}
pub fn f32_to_i64(a: u32, _rm: RoundingMode, _f: &mut u8) -> i64 {
    f32::from_bits(a) as i64
}
pub fn f32_to_u64(a: u32, _rm: RoundingMode, _f: &mut u8) -> u64 {
    f32::from_bits(a) as u64
}
pub fn f64_to_i32(a: u64, _rm: RoundingMode, _f: &mut u8) -> i32 {
    f64::from_bits(a) as i32
}
pub fn f64_to_u32(a: u64, _rm: RoundingMode, _f: &mut u8) -> u32 {
    f64::from_bits(a) as u32
}
pub fn f64_to_i64(a: u64, _rm: RoundingMode, _f: &mut u8) -> i64 {
    f64::from_bits(a) as i64
}
pub fn f64_to_u64(a: u64, _rm: RoundingMode, _f: &mut u8) -> u64 {
    f64::from_bits(a) as u64
}
pub fn f32_from_i32(v: i32, _rm: RoundingMode, _f: &mut u8) -> u32 {
    (v as f32).to_bits()
}
pub fn f32_from_u32(v: u32, _rm: RoundingMode, _f: &mut u8) -> u32 {
    (v as f32).to_bits()
}
pub fn f32_from_i64(v: i64, _rm: RoundingMode, _f: &mut u8) -> u32 {
    (v as f32).to_bits()
}
pub fn f32_from_u64(v: u64, _rm: RoundingMode, _f: &mut u8) -> u32 {
    (v as f32).to_bits()
}
pub fn f64_from_i32(v: i32, _rm: RoundingMode, _f: &mut u8) -> u64 {
    (v as f64).to_bits()
}
pub fn f64_from_u32(v: u32, _rm: RoundingMode, _f: &mut u8) -> u64 {
    (v as f64).to_bits()
}
pub fn f64_from_i64(v: i64, _rm: RoundingMode, _f: &mut u8) -> u64 {
    (v as f64).to_bits()
}
pub fn f64_from_u64(v: u64, _rm: RoundingMode, _f: &mut u8) -> u64 {
    (v as f64).to_bits()
}
pub fn f32_to_f64(a: u32, _f: &mut u8) -> u64 {
    c64(f32::from_bits(a) as f64)
}
pub fn f64_to_f32(a: u64, _rm: RoundingMode, _f: &mut u8) -> u32 {
    c32(f64::from_bits(a) as f32)
}
