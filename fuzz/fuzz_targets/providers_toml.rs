#![cfg_attr(not(feature = "stable"), no_main)]

tower_oidc_fuzz::target!("providers_toml", tower_oidc_fuzz::providers_toml);
