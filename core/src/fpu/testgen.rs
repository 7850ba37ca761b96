//! Deterministic generators of operands that exercise rounding, flags and special values.

use std::vec;
use std::vec::Vec;

/// splitmix64: tiny, fast, and good enough to spread bits for test inputs.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A binary format described by its field widths, for generating bit patterns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) exp_bits: u32,
    pub(crate) frac_bits: u32,
}

pub(crate) const SINGLE: Layout = Layout {
    exp_bits: 8,
    frac_bits: 23,
};
pub(crate) const DOUBLE: Layout = Layout {
    exp_bits: 11,
    frac_bits: 52,
};

impl Layout {
    pub(crate) fn sign(self) -> u64 {
        1 << (self.exp_bits + self.frac_bits)
    }
    /// Every bit of an encoding.
    pub(crate) fn all_bits(self) -> u64 {
        u64::MAX >> (63 - self.exp_bits - self.frac_bits)
    }
    pub(crate) fn frac_mask(self) -> u64 {
        (1 << self.frac_bits) - 1
    }
    pub(crate) fn max_field(self) -> u64 {
        (1 << self.exp_bits) - 1
    }
    pub(crate) fn bias(self) -> u64 {
        (1 << (self.exp_bits - 1)) - 1
    }
    pub(crate) fn pack(self, negative: bool, field: u64, frac: u64) -> u64 {
        (if negative { self.sign() } else { 0 })
            | (field << self.frac_bits)
            | (frac & self.frac_mask())
    }
    pub(crate) fn field(self, x: u64) -> u64 {
        (x >> self.frac_bits) & self.max_field()
    }
    pub(crate) fn host_value(self, x: u64) -> f64 {
        if self.frac_bits == 23 {
            f64::from(f32::from_bits(x as u32))
        } else {
            f64::from_bits(x)
        }
    }
    /// The host value rounded (to nearest) back into this format.
    pub(crate) fn round_host(self, v: f64) -> u64 {
        if self.frac_bits == 23 {
            u64::from((v as f32).to_bits())
        } else {
            v.to_bits()
        }
    }

    /// Zeros, infinities, NaNs of both kinds, boundaries of the subnormal and normal ranges,
    /// values around one, and the integer-conversion boundaries.
    pub(crate) fn specials(self) -> Vec<u64> {
        let max_field = self.max_field();
        let bias = self.bias();
        let frac = self.frac_mask();
        let quiet = 1 << (self.frac_bits - 1);
        let mut values = vec![
            0,
            self.pack(false, max_field, 0),
            self.pack(false, max_field, quiet),
            self.pack(false, max_field, quiet | 1),
            self.pack(false, max_field, 1),
            self.pack(false, max_field, frac >> 1),
            self.pack(false, 0, 1),
            self.pack(false, 0, 2),
            self.pack(false, 0, frac),
            self.pack(false, 0, frac >> 1),
            self.pack(false, 0, quiet),
            self.pack(false, 1, 0),
            self.pack(false, 1, 1),
            self.pack(false, 2, 0),
            self.pack(false, max_field - 1, frac),
            self.pack(false, max_field - 1, frac - 1),
            self.pack(false, max_field - 1, 0),
            self.pack(false, max_field - 2, frac),
            self.pack(false, bias, 0),
            self.pack(false, bias, 1),
            self.pack(false, bias - 1, frac),
            self.pack(false, bias, quiet),
            self.pack(false, bias + 1, 0),
            self.pack(false, bias - 1, 0),
        ];
        for integer_boundary in [31u64, 32, 63, 64] {
            let field = bias + integer_boundary;
            values.extend([
                self.pack(false, field, 0),
                self.pack(false, field - 1, frac),
                self.pack(false, field, 1),
            ]);
        }
        for half in [
            0.5,
            1.5,
            2.5,
            3.5,
            2147483647.5,
            2147483648.5,
            4294967295.5,
            0.25,
            0.75,
            1e-30,
        ] {
            values.push(self.round_host(half));
        }
        let negated: Vec<u64> = values.iter().map(|v| v ^ self.sign()).collect();
        values.extend(negated);
        values
    }

    /// One operand: a mix of specials, uniform bit patterns, values near one, with few
    /// significant bits (so that exact results and ties happen), subnormals and huge values.
    pub(crate) fn operand(self, rng: &mut Rng, specials: &[u64]) -> u64 {
        let negative = rng.chance(50);
        let bias = self.bias();
        match rng.below(12) {
            0 | 1 => rng.pick(specials),
            2 | 3 => rng.next_u64() & self.all_bits(),
            4 | 5 => self.pack(negative, bias - 8 + rng.below(17), rng.next_u64()),
            6 => {
                let field = rng.below(self.max_field());
                self.pack(negative, field, self.short_fraction(rng))
            }
            7 => self.pack(negative, bias - 4 + rng.below(9), self.short_fraction(rng)),
            8 => self.pack(negative, rng.below(3), rng.next_u64() >> rng.below(64)),
            9 => self.pack(
                negative,
                self.max_field() - 1 - rng.below(3),
                rng.next_u64(),
            ),
            10 => {
                // Small integers and their halves, for conversions and exact arithmetic.
                let integer = (rng.next_u64() >> rng.below(64)) as i64 as f64;
                let value = if rng.chance(30) {
                    integer + 0.5
                } else {
                    integer
                };
                self.round_host(if negative { -value } else { value })
            }
            _ => {
                let field = rng.below(self.max_field());
                self.pack(negative, field, rng.next_u64())
            }
        }
    }

    /// A fraction with only a few bits set, near the top or the bottom.
    pub(crate) fn short_fraction(self, rng: &mut Rng) -> u64 {
        let bits = rng.below(u64::from(self.frac_bits));
        let top = rng.next_u64() >> (64 - bits.max(1)) << (u64::from(self.frac_bits) - bits.max(1));
        if rng.chance(30) {
            top | 1 << rng.below(u64::from(self.frac_bits))
        } else {
            top
        }
    }

    /// `x` moved by a small number of units in the last place (either direction).
    pub(crate) fn nudge(self, rng: &mut Rng, x: u64) -> u64 {
        let step = rng.below(3) as i64 - 1;
        let moved = (x as i64).wrapping_add(step) as u64;
        if moved & !self.all_bits() != 0 {
            x
        } else {
            moved
        }
    }

    /// A second operand related to `a`: equal or opposite (cancellation), an exponent apart
    /// by a random amount (alignment), or independent.
    pub(crate) fn partner(self, rng: &mut Rng, a: u64, specials: &[u64]) -> u64 {
        match rng.below(6) {
            0 => {
                let negated = a ^ if rng.chance(70) { self.sign() } else { 0 };
                self.nudge(rng, negated)
            }
            1 => {
                let field = self.field(a);
                let offset = rng.below(u64::from(self.frac_bits) + 4);
                let field = if rng.chance(50) {
                    field.saturating_sub(offset)
                } else {
                    (field + offset).min(self.max_field() - 1)
                };
                self.pack(rng.chance(50), field, rng.next_u64())
            }
            2 => self.pack(rng.chance(50), self.field(a), rng.next_u64()),
            _ => self.operand(rng, specials),
        }
    }

    /// A second operand whose sum with `a` is a rounding tie or next to one: half a unit of
    /// `a`'s last place (or of the place below) times a small odd number, either sign.
    pub(crate) fn tie_partner(self, rng: &mut Rng, a: u64) -> u64 {
        let field = self.field(a);
        let tie_field = (field + rng.below(3)).saturating_sub(u64::from(self.frac_bits) + 1);
        let odd_multiple = rng.below(4) << (self.frac_bits - 2);
        self.pack(rng.chance(50), tie_field.max(1), odd_multiple)
    }

    /// The host's approximation of `v`, negated and nudged: an addend that nearly cancels.
    pub(crate) fn near_negation_of(self, rng: &mut Rng, v: f64) -> u64 {
        let bits = self.round_host(-v);
        self.nudge(rng, bits)
    }
}
