// SPDX-License-Identifier: GPL-2.0

//! Benchmark: `pulldown-cmark`, the CommonMark parser behind rustdoc and
//! mdBook. Renders 1 MiB of generated Markdown (headings, paragraphs with
//! emphasis, code spans and links, nested lists, block quotes, fenced code,
//! tables) to HTML, and counts the parser's events by kind. Prints the
//! HTML size, event counts and a checksum of the HTML.

use kwasm_bench_crates::{fnv, rounds, Rng, FNV_START, WORDS};
use pulldown_cmark::{html, Event, Options, Parser, Tag};

const DOC_BYTES: usize = 1 << 20;

fn sentence(rng: &mut Rng, s: &mut String) {
    let n = 5 + rng.below(14);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        let w = rng.pick(WORDS);
        match rng.below(16) {
            0 => s.push_str(&format!("*{w}*")),
            1 => s.push_str(&format!("**{w}**")),
            2 => s.push_str(&format!("`{w}()`")),
            3 => s.push_str(&format!(
                "[{w}](https://example.org/{w}/{})",
                rng.below(100)
            )),
            4 => s.push_str(&format!("{w} & <{w}>")),
            _ => s.push_str(w),
        }
    }
    s.push('.');
}

fn document() -> String {
    let mut rng = Rng::new(0x5eed_0005);
    let mut s = String::with_capacity(DOC_BYTES + 4096);
    while s.len() < DOC_BYTES {
        match rng.below(12) {
            0 => {
                s.push_str(&"#".repeat(1 + rng.below(4) as usize));
                s.push(' ');
                sentence(&mut rng, &mut s);
            }
            1 | 2 => {
                for depth in 0..2 + rng.below(6) {
                    s.push_str(&"  ".repeat((depth % 3) as usize));
                    s.push_str(if rng.below(2) == 0 { "- " } else { "1. " });
                    sentence(&mut rng, &mut s);
                    s.push('\n');
                }
            }
            3 => {
                s.push_str("> ");
                sentence(&mut rng, &mut s);
                s.push_str("\n> ");
                sentence(&mut rng, &mut s);
            }
            4 => {
                s.push_str("```rust\n");
                for _ in 0..1 + rng.below(6) {
                    s.push_str(&format!("let {} = {};\n", rng.pick(WORDS), rng.below(1000)));
                }
                s.push_str("```");
            }
            5 => {
                s.push_str("| name | value | note |\n|---|--:|:-:|\n");
                for _ in 0..1 + rng.below(5) {
                    s.push_str(&format!(
                        "| {} | {} | *{}* |\n",
                        rng.pick(WORDS),
                        rng.below(100_000),
                        rng.pick(WORDS)
                    ));
                }
            }
            _ => {
                for _ in 0..1 + rng.below(5) {
                    sentence(&mut rng, &mut s);
                    s.push(if rng.below(3) == 0 { '\n' } else { ' ' });
                }
            }
        }
        s.push_str("\n\n");
    }
    s
}

fn main() {
    let passes = rounds(30);
    let doc = document();
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut check = FNV_START;
    let (mut html_len, mut events, mut links, mut headings) = (0, 0u64, 0u64, 0u64);
    for _ in 0..passes {
        let mut out = String::with_capacity(doc.len() * 2);
        html::push_html(&mut out, Parser::new_ext(&doc, opts));
        html_len = out.len();
        check = fnv(check, &out.as_bytes()[out.len() / 3..][..8192]) ^ out.len() as u64;
        (events, links, headings) = (0, 0, 0);
        for e in Parser::new_ext(&doc, opts) {
            events += 1;
            match e {
                Event::Start(Tag::Link { .. }) => links += 1,
                Event::Start(Tag::Heading { .. }) => headings += 1,
                _ => {}
            }
        }
        check = check.rotate_left(7) ^ events;
    }
    println!(
        "markdown: passes={passes} bytes={} html={html_len} events={events} links={links} \
         headings={headings} checksum={check:016x}",
        doc.len()
    );
}
