//! HTTP plumbing shared by every module above it, and importing none of them: reading cookies
//! (with the `cookie` crate's parser), building `Set-Cookie` headers, HTML escaping and the page
//! shell, JSON/HTML/redirect responses with the headers every auth response carries, and URL
//! building with `url`.
//!
//! This is a leaf: it knows `http`, `cookie`, `url` and the crate's [`crate::error`] codes, and
//! nothing of flows, sessions or providers.

mod cookies;
mod html;
mod response;
mod return_to;
mod urls;

pub(crate) use cookies::{Found, cookie_header, find_unique_cookie, pair_is_named};
pub(crate) use html::{escape, page};
#[cfg(any(feature = "actix", feature = "warp"))]
pub(crate) use response::bad_request;
#[cfg(feature = "ui")]
pub(crate) use response::html_response_with_csp;
pub(crate) use response::{
    add_cookies, code_json, error_json, html_response, json_response, redirect, too_large,
    wants_json,
};
pub use return_to::{MAX_RETURN_TO, safe_return_to};
pub(crate) use urls::{origin_of, query_param, same_origin, with_query};
