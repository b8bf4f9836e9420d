// Copyright 2026 Cloudflare, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use crate::*;
use bytes::Bytes;
use http::header;

#[derive(Debug, Clone)]
pub struct CaseHeaderName(Bytes);

impl CaseHeaderName {
    pub fn new(name: String) -> Self {
        CaseHeaderName(name.into())
    }
}

impl CaseHeaderName {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn from_slice(buf: &[u8]) -> Self {
        CaseHeaderName(Bytes::copy_from_slice(buf))
    }
}

/// A trait that converts into case-sensitive header names.
pub trait IntoCaseHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName;

    // cutover patch 1: a name that is already a `HeaderName` is not parsed
    // again on insert.
    /// The name as the header maps key it, with the case to write it in.
    /// The default parses the case's bytes (`HeaderName::from_bytes`, which
    /// allocates for a name `http` does not know).
    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)>
    where
        Self: Sized,
    {
        let case_header_name = self.into_case_header_name();
        let header_name = HeaderName::from_bytes(case_header_name.as_slice())
            .or_err(InvalidHTTPHeader, "invalid header name")?;
        Ok((header_name, case_header_name))
    }
}

// cutover patch 1: names inserted on every message, parsed once.
/// A header name and the case it is written in, both fixed up front, for
/// names a program inserts on every message: inserting one parses nothing
/// and allocates nothing when `name` is a standard header or was made by
/// `HeaderName::from_static` (cloning either copies no bytes).
#[derive(Debug, Clone)]
pub struct KnownHeaderName {
    name: HeaderName,
    case: CaseHeaderName,
}

impl KnownHeaderName {
    /// `case` is how the name goes on the wire.
    ///
    /// # Panics
    /// If `case` is not `name` up to ASCII case: a program error, caught
    /// where the constant is made.
    pub fn new(name: HeaderName, case: &'static str) -> Self {
        assert!(
            name.as_str().eq_ignore_ascii_case(case),
            "KnownHeaderName: {case:?} is not the header {name}"
        );
        KnownHeaderName {
            name,
            case: CaseHeaderName(Bytes::from_static(case.as_bytes())),
        }
    }

    /// A name written as given (lower case), e.g. `"x-forwarded-for"`;
    /// `const`, so it can be a `static`.
    ///
    /// # Panics
    /// As `HeaderName::from_static`: if `name` is not a valid lower-case
    /// header name (at compile time, in a `static`).
    pub const fn from_static(name: &'static str) -> Self {
        KnownHeaderName {
            name: HeaderName::from_static(name),
            case: CaseHeaderName(Bytes::from_static(name.as_bytes())),
        }
    }

    pub fn name(&self) -> &HeaderName {
        &self.name
    }
}

impl IntoCaseHeaderName for &KnownHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        self.case.clone()
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        Ok((self.name.clone(), self.case.clone()))
    }
}

impl IntoCaseHeaderName for CaseHeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        self
    }
}

impl IntoCaseHeaderName for String {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self.into())
    }
}

impl IntoCaseHeaderName for &'static str {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self.into())
    }
}

impl IntoCaseHeaderName for HeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(titled_header_name(&self))
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        let case = CaseHeaderName(titled_header_name(&self));
        Ok((self, case))
    }
}

impl IntoCaseHeaderName for &HeaderName {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(titled_header_name(self))
    }

    fn into_header_names(self) -> Result<(HeaderName, CaseHeaderName)> {
        Ok((self.clone(), CaseHeaderName(titled_header_name(self))))
    }
}

impl IntoCaseHeaderName for Bytes {
    fn into_case_header_name(self) -> CaseHeaderName {
        CaseHeaderName(self)
    }
}

fn titled_header_name(header_name: &HeaderName) -> Bytes {
    titled_header_name_str(header_name).map_or_else(
        || Bytes::copy_from_slice(header_name.as_str().as_bytes()),
        |s| Bytes::from_static(s.as_bytes()),
    )
}

pub(crate) fn titled_header_name_str(header_name: &HeaderName) -> Option<&'static str> {
    Some(match *header_name {
        header::ACCEPT_RANGES => "Accept-Ranges",
        header::AGE => "Age",
        header::CACHE_CONTROL => "Cache-Control",
        header::CONNECTION => "Connection",
        header::CONTENT_TYPE => "Content-Type",
        header::CONTENT_ENCODING => "Content-Encoding",
        header::CONTENT_LENGTH => "Content-Length",
        header::DATE => "Date",
        header::TRANSFER_ENCODING => "Transfer-Encoding",
        header::HOST => "Host",
        header::SERVER => "Server",
        header::SET_COOKIE => "Set-Cookie",
        // TODO: add more const header here to map to their titled case
        // TODO: automatically upper case the first letter?
        _ => {
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_header_name_keeps_its_case_and_name() {
        let known = KnownHeaderName::new(HeaderName::from_static("x-forwarded-for"), "X-Forwarded-For");
        let (name, case) = (&known).into_header_names().unwrap();
        assert_eq!(name, "x-forwarded-for");
        assert_eq!(case.as_slice(), b"X-Forwarded-For");
        static LOWER: KnownHeaderName = KnownHeaderName::from_static("x-cutover-backend");
        assert_eq!((&LOWER).into_case_header_name().as_slice(), b"x-cutover-backend");
        assert_eq!(LOWER.name(), "x-cutover-backend");
    }

    #[test]
    #[should_panic(expected = "is not the header")]
    fn known_header_name_refuses_another_name() {
        KnownHeaderName::new(header::SERVER, "Date");
    }

    #[test]
    fn header_names_parse_as_before() {
        let (name, case) = "X-Foo".into_header_names().unwrap();
        assert_eq!((name.as_str(), case.as_slice()), ("x-foo", &b"X-Foo"[..]));
        assert!("bad name".into_header_names().is_err());
        let (name, case) = header::CONTENT_TYPE.into_header_names().unwrap();
        assert_eq!((name, case.as_slice()), (header::CONTENT_TYPE, &b"Content-Type"[..]));
    }

    #[test]
    fn test_case_header_name() {
        assert_eq!("FoO".into_case_header_name().as_slice(), b"FoO");
        assert_eq!("FoO".to_string().into_case_header_name().as_slice(), b"FoO");
        assert_eq!(header::SERVER.into_case_header_name().as_slice(), b"Server");
    }
}
