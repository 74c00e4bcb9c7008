//! Shared code of the fuzz targets: the checks (one function per target, used by both the
//! libFuzzer entry points and the stable harness) and the stable harness itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

/// `providers.toml` parser: any text is either providers or errors naming the file; never a
/// panic. Accepted input also loads again on top of the built-in registry.
pub fn providers_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = tower_oidc::Providers::empty().with_toml_str("fuzz.toml", text) {
        let n = p.iter().count();
        let _ = tower_oidc::Providers::builtin().with_toml_str("fuzz.toml", text);
        assert!(n <= text.len(), "more providers than bytes");
    }
}

const KEY: &[u8] = b"fuzz key: not a secret, only needs to be fixed";

/// Transaction and session cookie decoders: arbitrary `Cookie` headers, and arbitrary
/// plaintexts behind a valid AEAD seal (to reach the JSON decoding). Never a panic; a cookie
/// sealed under another key never decodes.
pub fn cookies(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 3 {
        0 => {
            tower_oidc::__bench::fuzz_decode_cookies(KEY, &text);
        }
        1 => {
            let sealed = tower_oidc::__bench::fuzz_seal_transactions(KEY, &text);
            tower_oidc::__bench::fuzz_decode_cookies(KEY, &sealed);
            let header = format!("a=b; {sealed}; {sealed}");
            tower_oidc::__bench::fuzz_decode_cookies(KEY, &header);
            assert_eq!(
                tower_oidc::__bench::fuzz_decode_cookies(b"another key", &sealed),
                0,
                "a cookie sealed under another key decoded"
            );
        }
        _ => {
            // A valid seal with bytes flipped at fuzzer-chosen positions must not decode.
            let sealed = tower_oidc::__bench::fuzz_seal_transactions(KEY, "[]");
            let mut bytes = sealed.into_bytes();
            let start = "tower_oidc_tx=".len();
            if bytes.len() > start {
                for (i, b) in rest.iter().enumerate().take(8) {
                    let at = start + (usize::from(*b) + i * 31) % (bytes.len() - start);
                    bytes[at] = bytes[at].wrapping_add(1 + (*b % 7));
                }
            }
            let header = String::from_utf8_lossy(&bytes);
            assert_eq!(tower_oidc::__bench::fuzz_decode_cookies(KEY, &header), 0);
        }
    }
}

/// Callback query parser (and the `return_to` filter on what it yields): parsing is total, a
/// parsed query re-serialised parses to the same parameters, and `return_to` only ever yields
/// `/` or a same-origin relative path.
pub fn callback_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = tower_oidc::flow::CallbackParams::parse(&text) {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("code", &p.code),
            ("state", &p.state),
            ("iss", &p.iss),
            ("error", &p.error),
            ("error_description", &p.error_description),
        ] {
            if let Some(v) = v {
                s.append_pair(k, v);
            }
        }
        let again = s.finish();
        if again.len() <= tower_oidc::flow::MAX_QUERY_BYTES {
            assert_eq!(
                tower_oidc::flow::CallbackParams::parse(&again)
                    .ok()
                    .as_ref(),
                Some(&p),
                "round trip"
            );
        }
    }
    let r = tower_oidc::flow::safe_return_to(Some(&text));
    if r != "/" {
        assert_eq!(
            r, text,
            "a return_to is either kept verbatim or replaced by /"
        );
        assert!(r.starts_with('/') && !r.starts_with("//") && !r.contains('\\'));
        let base = url::Url::parse("https://app.example/").unwrap();
        let joined = base.join(&r).unwrap();
        assert_eq!(joined.origin(), base.origin(), "{r:?} leaves the origin");
    }
}

/// xorshift64*: a small seeded generator, so a stable run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens the mutator splices in: the syntax the parsers care about.
const DICT: &[&[u8]] = &[
    b"=",
    b"&",
    b";",
    b"%",
    b"%00",
    b"%2F",
    b"%5C",
    b"%0d%0a",
    b"\\",
    b"//",
    b"/",
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"\"",
    b"'''",
    b"\"\"\"",
    b"{",
    b"}",
    b"=\"${",
    b"}\"",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b"#",
    b".",
    b"..",
    b"@",
    b"\xef\xbc\xa0",
    b"\xff",
    b"\xc3",
    b"state=",
    b"code=",
    b"iss=",
    b"error=",
    b"tower_oidc_tx=",
    b"tower_oidc_session=",
    b"[providers.x]",
    b"[settings.x]",
    b"issuer = ",
    b"client_id = ",
    b"scopes = [",
    b"\"openid\"",
    b"true",
    b"1e999",
    b"-0",
    b"{url}",
    b"{slug}",
    b"{issuer}",
    b"https://",
    b"http://127.0.0.1",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], out: &mut Vec<u8>) {
    out.clear();
    if !seeds.is_empty() && rng.below(8) != 0 {
        out.extend_from_slice(&seeds[rng.below(seeds.len())]);
    }
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 => out.insert(at, rng.next() as u8),
            1 if !out.is_empty() => {
                let at = at.min(out.len() - 1);
                out[at] = rng.next() as u8;
            }
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 | 4 => {
                let t = DICT[rng.below(DICT.len())];
                out.splice(at..at, t.iter().copied());
            }
            5 if !out.is_empty() => {
                // Duplicate a slice (repeated keys, nested tables).
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let chunk = out[start..end].to_vec();
                out.splice(at..at, chunk);
            }
            _ if !seeds.is_empty() => {
                // Splice part of another seed.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(128)).min(other.len());
                    out.splice(at..at, other[start..end].iter().copied());
                }
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out.truncate(64 * 1024);
}

fn load_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if let Ok(b) = std::fs::read(&p) {
                seeds.push(b);
            }
        }
    }
    seeds
}

/// The stable harness: runs `check` over every seed in `seeds/<name>/`, then over random
/// mutations of them (seeded by `FUZZ_SEED`, default 1) for the number of seconds in the first
/// argument (default 10). A panic is caught, its input written to `crashes/<name>-<n>`, and the
/// run goes on; the exit status is 1 when anything crashed. Prints executions and crashes.
pub fn stable_main(name: &str, check: fn(&[u8])) {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let report = run(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        name,
        check,
        secs,
        seed,
    );
    println!("{report}");
    if report.crashes > 0 {
        std::process::exit(1);
    }
}

/// What a stable run did.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Inputs run.
    pub execs: u64,
    /// Inputs that panicked.
    pub crashes: u64,
    /// Seconds run.
    pub secs: u64,
    /// The generator's seed.
    pub seed: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} executions in {} s, {} crashes (seed {})",
            self.execs, self.secs, self.crashes, self.seed
        )
    }
}

/// Runs `check` on the seeds in `root/seeds/<name>/`, then on mutations for `secs` seconds;
/// crashing inputs go to `root/crashes/`.
pub fn run(root: &Path, name: &str, check: fn(&[u8]), secs: u64, seed: u64) -> Report {
    let seeds = load_seeds(&root.join("seeds").join(name));
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = 0u64;
    let mut execs = 0u64;
    let run_one = |input: &[u8], crashes: &mut u64| {
        if std::panic::catch_unwind(|| check(input)).is_err() {
            *crashes += 1;
            let dir = root.join("crashes");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{name}-{seed}-{crashes}")), input);
        }
    };
    for s in &seeds {
        run_one(s, &mut crashes);
        execs += 1;
    }
    let mut rng = Rng::new(seed);
    let mut buf = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last_report = Instant::now();
    while Instant::now() < deadline {
        for _ in 0..256 {
            mutate(&mut rng, &seeds, &mut buf);
            run_one(&buf, &mut crashes);
            execs += 1;
        }
        if last_report.elapsed() > Duration::from_secs(60) {
            last_report = Instant::now();
            eprintln!("{name}: {execs} executions, {crashes} crashes so far");
            let _ = std::io::stderr().flush();
        }
    }
    std::panic::set_hook(previous);
    Report {
        execs,
        crashes,
        secs,
        seed,
    }
}

/// Declares a fuzz target: the libFuzzer entry point, or with feature `stable` a `main` that
/// runs the stable harness.
#[macro_export]
macro_rules! target {
    ($name:literal, $check:path) => {
        #[cfg(all(feature = "libfuzzer", not(feature = "stable")))]
        libfuzzer_sys::fuzz_target!(|data: &[u8]| $check(data));

        #[cfg(feature = "stable")]
        fn main() {
            $crate::stable_main($name, $check);
        }
    };
}
