//! A hub on a temp dir, and request helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use hallmark_hub::{AppState, HubConfig, admin};
use hallmark_store::{Role, TokenScope};
use serde_json::Value;
use tower::ServiceExt;

pub(crate) const URL: &str = "http://hub.test";

pub(crate) struct Hub {
    pub app: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub alice: String,
    pub bob: String,
    pub carol: String,
    pub alice_read: String,
}

pub(crate) struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// alice owns org `acme`; bob is a reader of `acme`; carol is in no org.
pub(crate) async fn hub() -> Hub {
    hub_with(|_| {}).await
}

/// [`hub`], with settings changed by `configure`.
pub(crate) async fn hub_with(configure: impl FnOnce(&mut HubConfig)) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HubConfig::new(dir.path().to_path_buf(), URL);
    config.fsync = false;
    configure(&mut config);
    let opened = hallmark_hub::open(config).await.unwrap();
    assert!(
        opened.bootstrap_token.is_some(),
        "first start prints a bootstrap token"
    );
    let state = opened.state;
    let op = admin::Operator::new(&*state.meta, "test");
    op.add_user(
        "alice",
        Some("alice@example.com"),
        Some("alice-password".into()),
        false,
    )
    .await
    .unwrap();
    op.add_user("bob", None, None, false).await.unwrap();
    op.add_user("carol", None, None, false).await.unwrap();
    op.add_org("acme", "alice").await.unwrap();
    op.set_member("acme", "bob", Some(Role::Reader))
        .await
        .unwrap();
    let tok = |user: &'static str, scope| async move {
        op.new_token(&admin::NewToken {
            user,
            scope,
            label: "test",
            lifetime: hallmark_hub::auth::TokenLifetime::Default,
        })
        .await
        .unwrap()
        .0
    };
    Hub {
        app: hallmark_hub::app(state.clone()),
        alice: tok("alice", TokenScope::Write).await,
        bob: tok("bob", TokenScope::Write).await,
        carol: tok("carol", TokenScope::Write).await,
        alice_read: tok("alice", TokenScope::Read).await,
        state,
        dir,
    }
}

impl Hub {
    /// An anonymous GET of `uri` with the `Range: spec` header.
    pub(crate) async fn range(&self, uri: &str, spec: &str) -> Resp {
        self.send(Method::GET, uri, None, &[("range", spec)], vec![])
            .await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = self
            .app
            .clone()
            .oneshot(b.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        self.send(Method::GET, uri, token, &[], Vec::new()).await
    }

    pub(crate) async fn post_json(&self, uri: &str, token: Option<&str>, v: Value) -> Resp {
        self.send(
            Method::POST,
            uri,
            token,
            &[("content-type", "application/json")],
            v.to_string().into_bytes(),
        )
        .await
    }

    /// Uploads `files` to `repo` as a new revision; returns the commit response.
    /// `private` asks for a private repo (the open call states it); `false` leaves the
    /// visibility as it is (new repos are public), as `hallmark push` does.
    pub(crate) async fn push(
        &self,
        token: &str,
        repo: &str,
        files: &[(&str, &[u8])],
        private: bool,
    ) -> Resp {
        let r = self
            .post_json(
                &format!("/api/models/{repo}/uploads"),
                Some(token),
                if private {
                    serde_json::json!({"private": true})
                } else {
                    serde_json::json!({})
                },
            )
            .await;
        if r.status != StatusCode::CREATED {
            return r;
        }
        let id = r.json()["upload_id"].as_str().unwrap().to_owned();
        for (path, data) in files {
            let r = self
                .send(
                    Method::PUT,
                    &format!("/api/models/{repo}/uploads/{id}/files/{path}"),
                    Some(token),
                    &[],
                    data.to_vec(),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        }
        self.post_json(
            &format!("/api/models/{repo}/uploads/{id}/commit"),
            Some(token),
            serde_json::json!({"summary": "push"}),
        )
        .await
    }

    /// Number of content blobs in the blob store.
    pub(crate) fn blob_count(&self) -> usize {
        fn walk(p: &std::path::Path) -> usize {
            std::fs::read_dir(p).map_or(0, |d| {
                d.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        walk(&self.dir.path().join("blobs/blobs"))
    }
}

/// A URL-encoded form body.
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25")
                    .replace('&', "%26")
                    .replace('+', "%2B")
                    .replace('=', "%3D")
                    .replace(' ', "+")
            )
        })
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// The form content type.
pub(crate) const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

impl Hub {
    /// Logs `user` in with `password`; the login response.
    pub(crate) async fn login(&self, user: &str, password: &str) -> Resp {
        self.send(
            Method::POST,
            "/login",
            None,
            &[FORM],
            form(&[("username", user), ("password", password)]),
        )
        .await
    }

    /// Logs `user` in; the session cookie (`hm_session=…`).
    pub(crate) async fn session(&self, user: &str, password: &str) -> String {
        let ok = self.login(user, password).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
        ok.header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }
}
