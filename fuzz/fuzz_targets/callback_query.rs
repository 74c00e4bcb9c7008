#![cfg_attr(not(feature = "stable"), no_main)]

tower_oidc_fuzz::target!("callback_query", tower_oidc_fuzz::callback_query);
