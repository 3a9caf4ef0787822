//! Token verification. The accepted algorithm comes from the configured key
//! (HS256 for a secret; RS256 or ES256 from a PEM key or each JWKS entry),
//! never from the token's header. Expiry is checked against the injected
//! clock so tests can move time.
use std::path::Path;

use chrono::{DateTime, Utc};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Auth, Role};
use crate::{
    clock::Clock,
    config::{Config, DEVELOPMENT_SECRET},
    error::{Error, Result},
    ids::{BotId, TenantId},
};

/// The claims botmem reads. `sub`, `tenant` and `exp` are required; `exp`
/// must be a number (a string is rejected, not skipped).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bots: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

pub struct Verifier {
    keys: Vec<Key>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: i64,
    clock: Clock,
}

impl Verifier {
    pub fn from_config(config: &Config) -> Result<Verifier, String> {
        let keys = if let Some(path) = &config.jwt_public_key_file {
            vec![pem_key(path)?]
        } else if let Some(path) = &config.jwt_jwks_file {
            jwks_keys(path)?
        } else {
            let secret = config.jwt_secret.as_deref().unwrap_or(DEVELOPMENT_SECRET);
            vec![Key {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.as_bytes()),
            }]
        };
        Ok(Verifier {
            keys,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway_secs: i64::try_from(config.jwt_leeway_secs).unwrap_or(i64::MAX),
            clock: config.clock.clone(),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Auth> {
        let header = decode_header(token).map_err(|_| unauthenticated("malformed token"))?;
        let candidates = self.keys.iter().filter(|k| {
            k.algorithm == header.alg
                && (header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
        });
        let mut last_error = unauthenticated("token algorithm or key is not accepted");
        for key in candidates {
            match decode::<Claims>(token, &key.key, &self.validation(key.algorithm)) {
                Ok(data) => return self.authorize(data.claims),
                Err(e) => last_error = unauthenticated(&describe(&e)),
            }
        }
        Err(last_error)
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.set_required_spec_claims(&["exp", "sub"]);
        // Time claims are checked in `authorize`, against the injected clock.
        v.validate_exp = false;
        v.validate_nbf = false;
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                v.required_spec_claims.insert("aud".into());
            }
            None => v.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            v.required_spec_claims.insert("iss".into());
        }
        v
    }

    fn authorize(&self, claims: Claims) -> Result<Auth> {
        let now = self.clock.now().timestamp();
        if now > claims.exp.saturating_add(self.leeway_secs) {
            return Err(unauthenticated("token expired"));
        }
        if matches!(claims.nbf, Some(nbf) if now.saturating_add(self.leeway_secs) < nbf) {
            return Err(unauthenticated("token not valid yet"));
        }
        if claims.sub.is_empty() {
            return Err(unauthenticated("token has an empty sub claim"));
        }
        let tenant = TenantId::parse(&claims.tenant)
            .map_err(|_| unauthenticated("token has an invalid tenant claim"))?;
        let mut roles: Vec<Role> = claims
            .roles
            .iter()
            .filter_map(|r| Role::from_claim(r))
            .collect();
        roles.sort();
        roles.dedup();
        Ok(Auth {
            subject: claims.sub,
            tenant,
            roles,
            bots: claims.bots.map(|ids| ids.into_iter().map(BotId).collect()),
            expires_at: DateTime::<Utc>::from_timestamp(claims.exp, 0)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        })
    }
}

fn unauthenticated(message: &str) -> Error {
    Error::Unauthenticated(message.to_owned())
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match error.kind() {
        InvalidSignature => "invalid token signature".into(),
        InvalidIssuer => "token issuer is not accepted".into(),
        InvalidAudience => "token audience is not accepted".into(),
        MissingRequiredClaim(claim) => format!("token lacks the {claim} claim"),
        InvalidAlgorithm => "token algorithm is not accepted".into(),
        Json(_) => "token claims are invalid (sub, tenant and a numeric exp are required)".into(),
        _ => "invalid token".into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// An RSA key means RS256, an EC P-256 key means ES256.
fn pem_key(path: &Path) -> Result<Key, String> {
    let pem = read(path)?;
    let (algorithm, key) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        (Algorithm::RS256, key)
    } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        (Algorithm::ES256, key)
    } else {
        return Err(format!(
            "{} is not an RSA or EC P-256 public key in PEM form",
            path.display()
        ));
    };
    Ok(Key {
        kid: None,
        algorithm,
        key,
    })
}

fn jwks_keys(path: &Path) -> Result<Vec<Key>, String> {
    let set: JwkSet = serde_json::from_slice(&read(path)?)
        .map_err(|e| format!("{} is not a JWKS document: {e}", path.display()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        let expected = match algorithm {
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::RS256,
        };
        if jwk
            .common
            .key_algorithm
            .is_some_and(|declared| declared != expected)
        {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| format!("{}: unusable key: {e}", path.display()))?;
        keys.push(Key {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
        });
    }
    if keys.is_empty() {
        return Err(format!("{} holds no RS256 or ES256 key", path.display()));
    }
    Ok(keys)
}

/// Signs claims with an HS256 secret: `botmem token` and the tests.
pub fn mint_hs256(secret: &str, claims: &Claims) -> Result<String, String> {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign token: {e}"))
}
