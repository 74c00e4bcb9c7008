//! The `tower-oidc` command line tool. `doctor` checks a provider against the live identity
//! provider ([`tower_oidc::admin::doctor`]).

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some("doctor") => tower_oidc::admin::doctor::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: tower-oidc doctor PROVIDER [options]\n\n{}",
                tower_oidc::admin::doctor::USAGE
            );
            ExitCode::from(2)
        }
    }
}
