//! A `torch.save` archive laid out byte for byte as PyTorch writes it: PyTorchStreamWriter
//! (pytorch caffe2/serialize/inline_container.cc) over miniz 3.0.2 initialised with
//! `MZ_ZIP_FLAG_WRITE_ZIP64` (see shared docs protocols-2026.md §9). Per record: a local
//! header with version 0, flags 0x0808 (data descriptor + UTF-8; 0x0800 when empty), method
//! 0 (stored), time/date 0, CRC and sizes 0, then the name and an `FB` extra of `Z` bytes
//! padding the data to a 64-byte boundary, the data, and a 16-byte data descriptor
//! (`PK\x07\x08`, CRC, sizes) when not empty. The central directory has version 0, real CRC
//! and sizes, no extra. Then, always, a zip64 end-of-central-directory record (size 44,
//! made-by 0x031E, needed 0x002D), a zip64 locator (1 disk), and the classic EOCD with real
//! values. Files under 4 GiB only (no zip64 extras).

#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

/// The records `torch.save` (torch ≥ 2.5) writes, in order, under `prefix/`.
pub fn torch_records(prefix: &str, data_pkl: &[u8], storage: &[u8]) -> Vec<(String, Vec<u8>)> {
    [
        ("data.pkl", data_pkl.to_vec()),
        (".format_version", b"1".to_vec()),
        (".storage_alignment", b"64".to_vec()),
        ("byteorder", b"little".to_vec()),
        ("data/0", storage.to_vec()),
        ("version", b"3\n".to_vec()),
        (
            ".data/serialization_id",
            b"1044377656838476291400044326271046958491".to_vec(),
        ),
    ]
    .into_iter()
    .map(|(n, d)| (format!("{prefix}/{n}"), d))
    .collect()
}

/// Writes the records as PyTorch's writer does.
pub fn write(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in records {
        let lho = out.len() as u32;
        let flags: u16 = if data.is_empty() { 0x0800 } else { 0x0808 };
        let crc = {
            let mut c = flate2::Crc::new();
            c.update(data);
            c.sum()
        };
        // getPadding: data starts after the header, the name and the 4-byte FB header.
        let start = out.len() + 30 + name.len() + 4;
        let pad = start.next_multiple_of(64) - start;
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&0u16.to_le_bytes()); // version needed (stored)
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&[0; 2 + 4 + 4 + 4 + 4]); // method, time, date, CRC, sizes
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&((4 + pad) as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"FB");
        out.extend_from_slice(&(pad as u16).to_le_bytes());
        out.resize(out.len() + pad, b'Z');
        assert_eq!(out.len() % 64, 0);
        out.extend_from_slice(data);
        if !data.is_empty() {
            out.extend_from_slice(b"PK\x07\x08");
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        }
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[0; 4]); // made by, needed
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&[0; 6]); // method, time, date
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 2 + 2 + 2 + 2 + 4]); // extra, comment, disk, attrs
        central.extend_from_slice(&lho.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let n = records.len() as u64;
    let cd_off = out.len() as u64;
    let cd_size = central.len() as u64;
    out.extend_from_slice(&central);
    let e64_pos = out.len() as u64;
    out.extend_from_slice(b"PK\x06\x06");
    out.extend_from_slice(&44u64.to_le_bytes());
    out.extend_from_slice(&0x031eu16.to_le_bytes());
    out.extend_from_slice(&0x002du16.to_le_bytes());
    out.extend_from_slice(&[0; 8]); // disk, disk of the directory
    for v in [n, n, cd_size, cd_off] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(b"PK\x06\x07");
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&e64_pos.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&(cd_size as u32).to_le_bytes());
    out.extend_from_slice(&(cd_off as u32).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
