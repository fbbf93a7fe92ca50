//! Serde for long lists of numbers in stored models: little-endian bytes in base64, a quarter
//! of the size of the same numbers as JSON text and read back bit for bit.

macro_rules! packed {
    ($module:ident, $ty:ty) => {
        pub mod $module {
            use base64::Engine;
            use serde::{Deserialize, Deserializer, Serializer};

            const SIZE: usize = std::mem::size_of::<$ty>();

            pub fn serialize<S: Serializer>(values: &[$ty], s: S) -> Result<S::Ok, S::Error> {
                let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<$ty>, D::Error> {
                let text = String::deserialize(d)?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(serde::de::Error::custom)?;
                if bytes.len() % SIZE != 0 {
                    return Err(serde::de::Error::custom("packed numbers of a wrong length"));
                }
                Ok(bytes
                    .chunks_exact(SIZE)
                    .map(|chunk| {
                        let mut raw = [0u8; SIZE];
                        raw.copy_from_slice(chunk);
                        <$ty>::from_le_bytes(raw)
                    })
                    .collect())
            }
        }
    };
}

packed!(f32s, f32);
packed!(u64s, u64);

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Both {
        #[serde(with = "super::f32s")]
        weights: Vec<f32>,
        #[serde(with = "super::u64s")]
        hashes: Vec<u64>,
    }

    #[test]
    fn numbers_come_back_bit_for_bit_and_bad_text_is_an_error() {
        let both = Both {
            weights: vec![0.1, -3.5e-7, f32::MAX],
            hashes: vec![0, u64::MAX, 0xcbf2_9ce4_8422_2325],
        };
        let json = serde_json::to_string(&both).expect("serialise");
        assert_eq!(serde_json::from_str::<Both>(&json).expect("read"), both);
        // Three bytes are not a whole f32; "!" is not base64.
        assert!(serde_json::from_str::<Both>(r#"{"weights":"AAAA","hashes":""}"#).is_err());
        assert!(serde_json::from_str::<Both>(r#"{"weights":"!","hashes":""}"#).is_err());
    }
}
