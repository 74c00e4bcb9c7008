#![cfg_attr(not(feature = "stable"), no_main)]

tower_oidc_fuzz::target!("cookies", tower_oidc_fuzz::cookies);
