//! The `/darurat` installable web app (files in `assets/darurat/`), built into the binary so
//! that nothing is fetched at run time. The API serves [`asset`] under `/darurat/` with
//! [`CSP`]: no inline script or style is allowed, and the app needs none.

/// One file of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// Path under `/darurat/` (`""` is the page itself).
    pub path: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static str,
}

/// `Content-Security-Policy` for every `/darurat` response: same-origin script, style,
/// images, fetches, manifest and worker; nothing inline, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// Every file, the page first.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../../assets/darurat/index.html"),
    },
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../../assets/darurat/app.js"),
    },
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../../assets/darurat/app.css"),
    },
    Asset {
        path: "sw.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../../assets/darurat/sw.js"),
    },
    Asset {
        path: "manifest.webmanifest",
        content_type: "application/manifest+json",
        body: include_str!("../../../assets/darurat/manifest.webmanifest"),
    },
    Asset {
        path: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../../assets/darurat/icon.svg"),
    },
];

/// The file at `/darurat/<path>` (`""` and `index.html` are the page).
pub fn asset(path: &str) -> Option<&'static Asset> {
    let path = path.trim_start_matches('/');
    let path = if path == "index.html" { "" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_loads_only_same_origin_files_and_no_inline_script() {
        let page = asset("").expect("page").body;
        assert!(page.contains("lang=\"id\""));
        assert!(page.contains("<script src=\"/darurat/app.js\" defer></script>"));
        assert_eq!(page.matches("<script").count(), 1, "one script, external");
        assert!(
            !page.contains("style="),
            "no inline style (CSP style-src 'self')"
        );
        assert!(!page.contains(" on"), "no inline event handlers");
        for linked in [
            "/darurat/app.css",
            "/darurat/manifest.webmanifest",
            "/darurat/icon.svg",
        ] {
            assert!(page.contains(linked), "{linked}");
            assert!(
                asset(linked.trim_start_matches("/darurat/")).is_some(),
                "{linked} served"
            );
        }
    }

    #[test]
    fn manifest_is_json_scoped_to_darurat() {
        let m: serde_json::Value =
            serde_json::from_str(asset("manifest.webmanifest").expect("manifest").body)
                .expect("valid JSON");
        assert_eq!(m["start_url"], "/darurat/");
        assert_eq!(m["scope"], "/darurat/");
        assert_eq!(m["display"], "standalone");
        assert_eq!(m["lang"], "id");
    }

    #[test]
    fn service_worker_caches_every_shell_file_but_never_the_api() {
        let sw = asset("sw.js").expect("sw").body;
        for a in ASSETS.iter().filter(|a| a.path != "sw.js") {
            assert!(
                sw.contains(&format!("\"/darurat/{}\"", a.path)),
                "{} cached",
                a.path
            );
        }
        assert!(sw.contains("/darurat/api/"));
    }

    #[test]
    fn app_has_three_steps_categories_geolocation_and_retry() {
        let js = asset("app.js").expect("app").body;
        for needle in [
            "step === 0",
            "step === 2",
            "getCurrentPosition",
            "accuracy",
            "pending_alert",
            "\"online\"",
            "DITERIMA",
        ] {
            assert!(js.contains(needle), "{needle}");
        }
        let page = asset("index.html").expect("page").body;
        for c in ["fire", "medical", "crime", "accident", "other"] {
            assert!(page.contains(&format!("data-kategori=\"{c}\"")), "{c}");
        }
        assert!(asset("../Cargo.toml").is_none());
    }
}
