//! Settings, read once at cold start from the environment `template.yaml` sets.

use std::time::Duration;

use lambdakit_auth::cache_key::{CacheSettings, RouteDependence};

use crate::Error;

/// The identity sources the template configures (`Identity` of the authorizer): the token and
/// the route.
pub const DEFAULT_IDENTITY_SOURCES: &str = "$request.header.Authorization,$context.routeKey";

/// The authorizer's cache settings, as the API is configured: `IDENTITY_SOURCES`
/// (comma-separated, default [`DEFAULT_IDENTITY_SOURCES`]) and `AUTHORIZER_TTL_SECONDS`
/// (default 0).
///
/// Errors ([`Error::Config`]): an unknown identity source, a TTL that is not a number of
/// seconds up to 3600, or caching on without `$context.routeKey` among the identity sources:
/// every decision here depends on the route, so such an API would replay one route's answer
/// on the others.
pub fn cache_settings(
    identity_sources: Option<&str>,
    ttl_seconds: Option<&str>,
) -> Result<CacheSettings, Error> {
    let ttl = match ttl_seconds.map(str::trim) {
        None | Some("") => 0,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= 3600)
            .ok_or_else(|| {
                Error::Config(format!(
                    "AUTHORIZER_TTL_SECONDS {text:?} is not 0 to 3600 seconds"
                ))
            })?,
    };
    let cache = CacheSettings::new(
        [identity_sources.unwrap_or(DEFAULT_IDENTITY_SOURCES)],
        Duration::from_secs(ttl),
    )?;
    cache.check(RouteDependence::PerRoute)?;
    Ok(cache)
}

/// [`cache_settings`] from the process environment.
pub fn cache_settings_from_env() -> Result<CacheSettings, Error> {
    cache_settings(
        std::env::var("IDENTITY_SOURCES").ok().as_deref(),
        std::env::var("AUTHORIZER_TTL_SECONDS").ok().as_deref(),
    )
}

/// A required environment variable.
pub fn required(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::Config(format!("{name} is not set")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caching_without_the_route_in_the_key_is_refused() {
        let error =
            cache_settings(Some("$request.header.Authorization"), Some("300")).expect_err("leaky");
        assert!(error.to_string().contains("$context.routeKey"), "{error}");
        assert!(cache_settings(Some("$request.header.Authorization"), Some("0")).is_ok());
        let keyed = cache_settings(None, Some("300")).expect("keyed");
        assert_eq!(keyed.ttl(), Duration::from_secs(300));
        assert!(keyed.keys_on_route());
    }

    #[test]
    fn bad_values_are_named() {
        assert!(cache_settings(None, Some("soon")).is_err());
        assert!(cache_settings(None, Some("3601")).is_err());
        assert!(cache_settings(Some("$request.headers.Authorization"), Some("300")).is_err());
    }
}
