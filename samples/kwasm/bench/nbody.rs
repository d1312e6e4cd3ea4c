// SPDX-License-Identifier: GPL-2.0

//! Benchmark: n-body simulation of the Jovian planets (f64 arithmetic,
//! sqrt, small arrays kept in registers and on the stack).
//!
//! `nbody [SCALE]`: SCALE is the amount of work in percent (default 100).
//! Prints the energy before and after; IEEE f64 arithmetic without fused
//! multiply-add is exact to the bit on every engine, so the printed digits
//! must agree.

use std::f64::consts::PI;

const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

fn scale() -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

fn bodies() -> [Body; 5] {
    let b = |pos: [f64; 3], vel: [f64; 3], mass: f64| Body {
        pos,
        vel: vel.map(|v| v * DAYS_PER_YEAR),
        mass: mass * SOLAR_MASS,
    };
    [
        b([0.0; 3], [0.0; 3], 1.0),
        // Jupiter
        b(
            [
                4.841_431_442_464_72,
                -1.160_320_044_027_428_4,
                -0.103_622_044_471_123_1,
            ],
            [
                1.660_076_642_744_037e-3,
                7.699_011_184_197_404e-3,
                -6.904_600_169_720_63e-5,
            ],
            9.547_919_384_243_266e-4,
        ),
        // Saturn
        b(
            [
                8.343_366_718_244_58,
                4.124_798_564_124_305,
                -4.035_234_171_143_214e-1,
            ],
            [
                -2.767_425_107_268_624e-3,
                4.998_528_012_349_172e-3,
                2.304_172_975_737_639_3e-5,
            ],
            2.858_859_806_661_308e-4,
        ),
        // Uranus
        b(
            [
                1.289_436_956_213_913_1e1,
                -1.511_115_140_169_863_1e1,
                -2.233_075_788_926_557_3e-1,
            ],
            [
                2.964_601_375_647_616e-3,
                2.378_471_739_594_809_5e-3,
                -2.965_895_685_402_375_6e-5,
            ],
            4.366_244_043_351_563e-5,
        ),
        // Neptune
        b(
            [
                1.537_969_711_485_091_1e1,
                -2.591_931_460_998_796_4e1,
                1.792_587_729_503_711_8e-1,
            ],
            [
                2.680_677_724_903_893_2e-3,
                1.628_241_700_382_423e-3,
                -9.515_922_545_197_159e-5,
            ],
            5.151_389_020_466_114_5e-5,
        ),
    ]
}

/// Gives the sun the momentum that makes the system's total zero.
fn offset_momentum(b: &mut [Body; 5]) {
    let mut p = [0.0; 3];
    for body in b.iter() {
        for (pk, vk) in p.iter_mut().zip(body.vel) {
            *pk += vk * body.mass;
        }
    }
    b[0].vel = p.map(|pk| -pk / SOLAR_MASS);
}

fn energy(b: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for i in 0..b.len() {
        let v2: f64 = b[i].vel.iter().map(|v| v * v).sum();
        e += 0.5 * b[i].mass * v2;
        for j in i + 1..b.len() {
            let d: [f64; 3] = std::array::from_fn(|k| b[i].pos[k] - b[j].pos[k]);
            e -= b[i].mass * b[j].mass / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        }
    }
    e
}

fn advance(b: &mut [Body; 5], dt: f64) {
    for i in 0..b.len() {
        for j in i + 1..b.len() {
            let d: [f64; 3] = std::array::from_fn(|k| b[i].pos[k] - b[j].pos[k]);
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let mag = dt / (d2 * d2.sqrt());
            let (mi, mj) = (b[i].mass * mag, b[j].mass * mag);
            for (k, dk) in d.iter().enumerate() {
                b[i].vel[k] -= dk * mj;
                b[j].vel[k] += dk * mi;
            }
        }
    }
    for body in b.iter_mut() {
        for k in 0..3 {
            body.pos[k] += dt * body.vel[k];
        }
    }
}

fn main() {
    let steps = 18_000_000 * scale() / 100;
    let mut b = bodies();
    offset_momentum(&mut b);
    let before = energy(&b);
    for _ in 0..steps {
        advance(&mut b, 0.01);
    }
    let after = energy(&b);
    println!(
        "nbody: steps={steps} energy {before:.12} -> {after:.12} bits={:016x}",
        after.to_bits()
    );
}
