//! RMCP+ algorithms (IPMI v2.0 §13.28): cipher suites, HMACs, session keys, AES-CBC-128.

use std::fmt;

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ProtocolError;

/// Authentication (key exchange) algorithm, as numbered by the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthAlgorithm {
    /// RAKP-none: no authentication.
    None,
    /// RAKP-HMAC-SHA1.
    HmacSha1,
    /// RAKP-HMAC-MD5 (not implemented by this crate).
    HmacMd5,
    /// RAKP-HMAC-SHA256.
    HmacSha256,
}

/// Integrity algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegrityAlgorithm {
    /// None.
    None,
    /// HMAC-SHA1-96.
    HmacSha1_96,
    /// HMAC-MD5-128 (not implemented by this crate).
    HmacMd5_128,
    /// HMAC-SHA256-128.
    HmacSha256_128,
}

/// Confidentiality algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfidentialityAlgorithm {
    /// None.
    None,
    /// AES-CBC-128.
    AesCbc128,
}

impl AuthAlgorithm {
    /// Wire number.
    pub fn id(self) -> u8 {
        match self {
            AuthAlgorithm::None => 0,
            AuthAlgorithm::HmacSha1 => 1,
            AuthAlgorithm::HmacMd5 => 2,
            AuthAlgorithm::HmacSha256 => 3,
        }
    }

    /// Length of the HMAC this algorithm produces (0 for none).
    pub fn mac_len(self) -> usize {
        match self {
            AuthAlgorithm::None => 0,
            AuthAlgorithm::HmacSha1 => 20,
            AuthAlgorithm::HmacMd5 => 16,
            AuthAlgorithm::HmacSha256 => 32,
        }
    }

    /// Length of the RAKP 4 integrity check value (truncated HMAC).
    pub fn icv_len(self) -> usize {
        match self {
            AuthAlgorithm::None => 0,
            AuthAlgorithm::HmacSha1 => 12,
            AuthAlgorithm::HmacMd5 => 16,
            AuthAlgorithm::HmacSha256 => 16,
        }
    }

    /// HMAC of the concatenation of `parts` under `key`; empty for [`AuthAlgorithm::None`].
    ///
    /// ```
    /// use drydock_driver_ipmi::crypto::AuthAlgorithm;
    /// let mac = AuthAlgorithm::HmacSha1.hmac(b"key", &[b"The quick brown fox ", b"jumps over the lazy dog"]);
    /// assert_eq!(mac[..4], [0xde, 0x7c, 0x9b, 0x85]);
    /// ```
    pub fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC accepts keys of any length");
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        Zeroizing::new(match self {
            AuthAlgorithm::None | AuthAlgorithm::HmacMd5 => Vec::new(),
            AuthAlgorithm::HmacSha1 => run::<Hmac<sha1::Sha1>>(key, parts),
            AuthAlgorithm::HmacSha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        })
    }
}

impl IntegrityAlgorithm {
    /// Wire number.
    pub fn id(self) -> u8 {
        match self {
            IntegrityAlgorithm::None => 0,
            IntegrityAlgorithm::HmacSha1_96 => 1,
            IntegrityAlgorithm::HmacMd5_128 => 2,
            IntegrityAlgorithm::HmacSha256_128 => 4,
        }
    }

    /// Length of the AuthCode trailer.
    pub fn code_len(self) -> usize {
        match self {
            IntegrityAlgorithm::None => 0,
            IntegrityAlgorithm::HmacSha1_96 => 12,
            IntegrityAlgorithm::HmacMd5_128 | IntegrityAlgorithm::HmacSha256_128 => 16,
        }
    }

    /// The truncated integrity code of `data` under K1.
    pub fn code(self, k1: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut mac = match self {
            IntegrityAlgorithm::None | IntegrityAlgorithm::HmacMd5_128 => {
                return Zeroizing::default();
            }
            IntegrityAlgorithm::HmacSha1_96 => AuthAlgorithm::HmacSha1.hmac(k1, &[data]),
            IntegrityAlgorithm::HmacSha256_128 => AuthAlgorithm::HmacSha256.hmac(k1, &[data]),
        };
        mac.truncate(self.code_len());
        mac
    }
}

impl ConfidentialityAlgorithm {
    /// Wire number.
    pub fn id(self) -> u8 {
        match self {
            ConfidentialityAlgorithm::None => 0,
            ConfidentialityAlgorithm::AesCbc128 => 1,
        }
    }
}

/// A cipher suite: the triple of algorithms negotiated by Open Session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuite {
    /// Cipher suite ID (table 22-20).
    pub id: u8,
    /// Authentication algorithm.
    pub auth: AuthAlgorithm,
    /// Integrity algorithm.
    pub integrity: IntegrityAlgorithm,
    /// Confidentiality algorithm.
    pub confidentiality: ConfidentialityAlgorithm,
}

impl CipherSuite {
    /// Looks up a cipher suite this crate implements (0, 1, 2, 3, 15, 16, 17).
    ///
    /// ```
    /// use drydock_driver_ipmi::crypto::CipherSuite;
    /// assert!(CipherSuite::from_id(3).unwrap().is_secure());
    /// assert!(!CipherSuite::from_id(2).unwrap().is_secure());
    /// assert!(CipherSuite::from_id(6).is_none()); // HMAC-MD5: not implemented
    /// ```
    pub fn from_id(id: u8) -> Option<CipherSuite> {
        use AuthAlgorithm as A;
        use ConfidentialityAlgorithm as C;
        use IntegrityAlgorithm as I;
        let (auth, integrity, confidentiality) = match id {
            0 => (A::None, I::None, C::None),
            1 => (A::HmacSha1, I::None, C::None),
            2 => (A::HmacSha1, I::HmacSha1_96, C::None),
            3 => (A::HmacSha1, I::HmacSha1_96, C::AesCbc128),
            15 => (A::HmacSha256, I::None, C::None),
            16 => (A::HmacSha256, I::HmacSha256_128, C::None),
            17 => (A::HmacSha256, I::HmacSha256_128, C::AesCbc128),
            _ => return None,
        };
        Some(CipherSuite {
            id,
            auth,
            integrity,
            confidentiality,
        })
    }

    /// Whether the suite authenticates, protects integrity and encrypts (3 and 17).
    pub fn is_secure(&self) -> bool {
        self.auth != AuthAlgorithm::None
            && self.integrity != IntegrityAlgorithm::None
            && self.confidentiality != ConfidentialityAlgorithm::None
    }
}

/// Session keys derived after RAKP: integrity key K1 and confidentiality key K2.
///
/// Zeroized on drop; `Debug` prints no key material.
#[derive(Clone)]
pub struct SessionKeys {
    suite: CipherSuite,
    k1: Zeroizing<Vec<u8>>,
    k2: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("suite", &self.suite.id)
            .field("k1", &"***")
            .field("k2", &"***")
            .finish()
    }
}

impl SessionKeys {
    /// Derives K1 = HMAC_SIK(0x01 x 20) and K2 = HMAC_SIK(0x02 x 20) (§13.32).
    pub fn derive(suite: CipherSuite, sik: &[u8]) -> SessionKeys {
        SessionKeys {
            suite,
            k1: suite.auth.hmac(sik, &[&[0x01; 20]]),
            k2: suite.auth.hmac(sik, &[&[0x02; 20]]),
        }
    }

    /// The cipher suite these keys belong to.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Integrity key K1.
    pub fn k1(&self) -> &[u8] {
        &self.k1
    }

    /// Confidentiality key material K2 (AES-128 uses its first 16 bytes).
    pub fn k2(&self) -> &[u8] {
        &self.k2
    }

    fn aes_key(&self) -> Result<[u8; 16], ProtocolError> {
        self.k2
            .get(..16)
            .and_then(|k| k.try_into().ok())
            .ok_or(ProtocolError::Unexpected(
                "confidentiality key shorter than 16 bytes",
            ))
    }

    /// Encrypts a payload: `IV || AES-CBC(data || 1,2,..,n || n)` for AES-CBC-128 with `iv`,
    /// the data unchanged when the suite has no confidentiality.
    pub fn encrypt(&self, iv: [u8; 16], data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        if self.suite.confidentiality == ConfidentialityAlgorithm::None {
            return Ok(data.to_vec());
        }
        let key = Zeroizing::new(self.aes_key()?);
        let pad = (16 - (data.len() + 1) % 16) % 16;
        let mut buf = Vec::with_capacity(16 + data.len() + pad + 1);
        buf.extend_from_slice(data);
        buf.extend((1..=pad).map(|b| b as u8));
        buf.push(pad as u8);
        let len = buf.len();
        cbc::Encryptor::<aes::Aes128>::new(key.as_ref().into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .map_err(|_| ProtocolError::Padding)?;
        let mut out = iv.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts a payload produced by [`SessionKeys::encrypt`], checking the padding.
    pub fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        if self.suite.confidentiality == ConfidentialityAlgorithm::None {
            return Ok(payload.to_vec());
        }
        ProtocolError::need("AES-CBC payload", payload, 32)?;
        if !payload.len().is_multiple_of(16) {
            return Err(ProtocolError::LengthMismatch {
                what: "AES-CBC payload (multiple of 16)",
                declared: payload.len(),
                actual: payload.len() - payload.len() % 16,
            });
        }
        let key = Zeroizing::new(self.aes_key()?);
        let (iv, ct) = payload.split_at(16);
        let iv: [u8; 16] = iv.try_into().map_err(|_| ProtocolError::Padding)?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = cbc::Decryptor::<aes::Aes128>::new(key.as_ref().into(), &iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| ProtocolError::Padding)?;
        let (&pad_len, rest) = plain.split_last().ok_or(ProtocolError::Padding)?;
        let pad_len = usize::from(pad_len);
        if pad_len > 15 || pad_len > rest.len() {
            return Err(ProtocolError::Padding);
        }
        let (data, pad) = rest.split_at(rest.len() - pad_len);
        if pad.iter().zip(1u8..).any(|(b, want)| *b != want) {
            return Err(ProtocolError::Padding);
        }
        Ok(data.to_vec())
    }

    /// Integrity code of `data` (the packet from the auth type byte through next header).
    pub fn integrity_code(&self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        self.suite.integrity.code(&self.k1, data)
    }

    /// Verifies an integrity code in constant time.
    pub fn verify_integrity(&self, data: &[u8], code: &[u8]) -> Result<(), ProtocolError> {
        let want = self.integrity_code(data);
        if want.len() == code.len() && bool::from(want.as_slice().ct_eq(code)) {
            Ok(())
        } else {
            Err(ProtocolError::Integrity)
        }
    }
}

/// Compares two MACs in constant time.
pub(crate) fn mac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(id: u8) -> SessionKeys {
        SessionKeys::derive(CipherSuite::from_id(id).unwrap(), b"session integrity key")
    }

    #[test]
    fn padding_layout() {
        let k = keys(3);
        // 8 bytes of data + 7 pad bytes + 1 length byte = one block after the IV.
        let out = k.encrypt([9; 16], &[0xAA; 8]).unwrap();
        assert_eq!(out.len(), 32);
        assert_eq!(&out[..16], &[9; 16]);
        // 15 bytes: no padding, only the length byte.
        assert_eq!(k.encrypt([0; 16], &[1; 15]).unwrap().len(), 32);
        assert_eq!(k.encrypt([0; 16], &[1; 16]).unwrap().len(), 48);
    }

    #[test]
    fn sha256_suite_has_16_byte_integrity() {
        let k = keys(17);
        assert_eq!(k.k1().len(), 32);
        assert_eq!(k.integrity_code(b"x").len(), 16);
        assert!(k.verify_integrity(b"x", &k.integrity_code(b"y")).is_err());
    }

    #[test]
    fn debug_hides_keys() {
        assert_eq!(
            format!("{:?}", keys(3)),
            r#"SessionKeys { suite: 3, k1: "***", k2: "***" }"#
        );
    }

    proptest! {
        #[test]
        fn aes_round_trips(data in proptest::collection::vec(any::<u8>(), 0..100), iv: [u8; 16]) {
            for id in [3u8, 17] {
                let k = keys(id);
                let enc = k.encrypt(iv, &data).unwrap();
                prop_assert_eq!(enc.len() % 16, 0);
                prop_assert_eq!(k.decrypt(&enc).unwrap(), data.clone());
            }
        }

        #[test]
        fn decrypt_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = keys(3).decrypt(&bytes);
        }
    }
}
