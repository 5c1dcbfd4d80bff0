//! The subset of the aes-gcm 0.9 API that AE's reactive_crypto calls:
//! `Aes128Gcm::new(&key)`, `encrypt`/`decrypt(&nonce, Payload { msg, aad })`,
//! returning ciphertext || 16-byte tag as aes-gcm does. Backed by OpenSSL's
//! EVP AES-128-GCM, a fresh context per call (aes-gcm 0.9 also expands the key
//! per `new`, and AE calls `new` once per event).

pub mod aead {
    pub use generic_array;

    use generic_array::typenum::{U12, U16};
    use generic_array::GenericArray;

    /// Opaque failure, like aead::Error: bad tag or a malformed input.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Error;

    pub struct Payload<'msg, 'aad> {
        pub msg: &'msg [u8],
        pub aad: &'aad [u8],
    }

    pub trait NewAead {
        fn new(key: &GenericArray<u8, U16>) -> Self;
    }

    pub trait Aead {
        fn encrypt(&self, nonce: &GenericArray<u8, U12>, p: Payload) -> Result<Vec<u8>, Error>;
        fn decrypt(&self, nonce: &GenericArray<u8, U12>, p: Payload) -> Result<Vec<u8>, Error>;
    }
}

use aead::generic_array::typenum::{U12, U16};
use aead::generic_array::GenericArray;
use aead::{Error, Payload};
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

const TAG_LEN: usize = 16;

pub struct Aes128Gcm {
    key: [u8; 16],
}

impl aead::NewAead for Aes128Gcm {
    fn new(key: &GenericArray<u8, U16>) -> Self {
        let mut k = [0u8; 16];
        k.copy_from_slice(key);
        Aes128Gcm { key: k }
    }
}

impl aead::Aead for Aes128Gcm {
    fn encrypt(&self, nonce: &GenericArray<u8, U12>, p: Payload) -> Result<Vec<u8>, Error> {
        let mut tag = [0u8; TAG_LEN];
        let mut out = encrypt_aead(Cipher::aes_128_gcm(), &self.key, Some(nonce), p.aad, p.msg,
                                   &mut tag).map_err(|_| Error)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    fn decrypt(&self, nonce: &GenericArray<u8, U12>, p: Payload) -> Result<Vec<u8>, Error> {
        if p.msg.len() < TAG_LEN {
            return Err(Error);
        }
        let (body, tag) = p.msg.split_at(p.msg.len() - TAG_LEN);
        decrypt_aead(Cipher::aes_128_gcm(), &self.key, Some(nonce), p.aad, body, tag)
            .map_err(|_| Error)
    }
}

#[cfg(test)]
mod tests {
    use super::aead::{Aead, NewAead, Payload};
    use super::*;

    // NIST GCM test case 2 (AES-128, zero key, zero IV, one zero block): the
    // stand-in must produce what aes-gcm produces, byte for byte.
    #[test]
    fn nist_case_2_and_tamper() {
        let key = GenericArray::clone_from_slice(&[0u8; 16]);
        let nonce = GenericArray::clone_from_slice(&[0u8; 12]);
        let c = Aes128Gcm::new(&key);
        let out = c.encrypt(&nonce, Payload { msg: &[0u8; 16], aad: &[] }).unwrap();
        let hex: String = out.iter().map(|b| format!("{:02x}", b)).collect();
        assert_eq!(hex, "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
        assert_eq!(c.decrypt(&nonce, Payload { msg: &out, aad: &[] }).unwrap(), vec![0u8; 16]);
        let mut bad = out.clone();
        bad[3] ^= 1;
        assert!(c.decrypt(&nonce, Payload { msg: &bad, aad: &[] }).is_err());
        assert!(c.decrypt(&nonce, Payload { msg: &out, aad: &[1] }).is_err());
    }
}
