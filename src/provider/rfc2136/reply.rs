//! Judging the reply to an UPDATE: its TSIG (RFC 8945 §5.3) first, then its rcode (RFC 2136
//! §2.2). A reply counts as success only when it says NOERROR **and** its TSIG verifies.
//!
//! hickory reports a rejected rcode as an ordinary message, and on BADSIG/BADKEY its verifier
//! only says "truncated HMAC" (the server's TSIG has an empty MAC). So this module reads the
//! TSIG error field itself before verifying, and turns every case into an `Rfc2136Error` with
//! the cause and the next step.

use std::net::SocketAddr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::tsig::TsigError;
use hickory_proto::rr::{TSigVerifier, TSigner};

use super::error::Rfc2136Error;

/// What the reply is checked against.
pub(super) struct Context<'a> {
    pub(super) server: SocketAddr,
    /// As configured (no trailing dot).
    pub(super) zone: &'a str,
    pub(super) key_name: &'a str,
    /// The record names in the message.
    pub(super) names: Vec<String>,
    /// Our "time signed" (RFC 8945 §4.2).
    pub(super) request_time: u64,
    /// The request's MAC: a signed reply's MAC covers it (RFC 8945 §5.3.1).
    pub(super) request_mac: &'a [u8],
}

/// `Ok(())` when the update was applied: NOERROR with a verified TSIG.
pub(super) fn check(
    bytes: &[u8],
    verifier: &mut TSigVerifier,
    signer: &TSigner,
    ctx: &Context<'_>,
) -> Result<(), Rfc2136Error> {
    let server = ctx.server;
    // Parsing precedes verification, so the parser sees untrusted input: hickory-proto ≥ 0.26.2
    // no longer pre-allocates by the header's record counts (README.md "Security").
    let message = Message::from_vec(bytes).map_err(|e| Rfc2136Error::Garbled {
        server,
        reason: format!("cannot parse it: {e}"),
    })?;
    if message.metadata.message_type != MessageType::Response
        || message.metadata.op_code != OpCode::Update
    {
        return Err(Rfc2136Error::Garbled {
            server,
            reason: "it does not answer an update".to_string(),
        });
    }
    let rcode = message.metadata.response_code;
    let Some(tsig) = message.signature.as_ref() else {
        // RFC 8945 §5.3: the reply to a signed request must be signed. An unsigned error is
        // still a failure; an unsigned NOERROR is never a success.
        return match rcode {
            ResponseCode::NoError => Err(Rfc2136Error::Unsigned {
                server,
                rcode: rcode_name(rcode),
            }),
            _ => classify_rcode(rcode, ctx),
        };
    };
    match tsig.data.error {
        // RFC 8945 §5.2.1, §5.2.2: the server could not verify our MAC or does not know the
        // key/algorithm; its reply is unsigned by design (empty MAC), so there is nothing to
        // verify. A forged one could at worst park the record, which the operator sees.
        Some(error @ (TsigError::BadSig | TsigError::BadKey)) => Err(Rfc2136Error::KeyRejected {
            key: ctx.key_name.to_string(),
            tsig_error: tsig_error_name(error),
        }),
        // RFC 8945 §5.2.3: BADTIME replies are signed and carry the server's time in Other
        // Data. Its time window is not ours, so check only the MAC here (hickory's verifier
        // would call any skewed reply "outdated").
        Some(TsigError::BadTime) => {
            let verified = signer
                .verify_message_byte(bytes, Some(ctx.request_mac), true)
                .is_ok();
            let server_time = server_time(&tsig.data.other).or(Some(tsig.data.time));
            // BADTIME means more than the fudge apart, so an offset of 0 (a server that only
            // echoed our time) tells nothing.
            let offset_secs = server_time
                .filter(|_| verified)
                .and_then(|t| i64::try_from(t).ok())
                .and_then(|t| i64::try_from(ctx.request_time).ok().map(|ours| t - ours))
                .filter(|offset| *offset != 0);
            Err(Rfc2136Error::ClockSkew { offset_secs })
        }
        Some(error) => Err(Rfc2136Error::TsigError {
            server,
            tsig_error: tsig_error_name(error),
        }),
        None => {
            // RFC 8945 §5.3: verify the MAC (over our MAC and the reply) and the time window.
            verifier
                .verify(bytes)
                .map_err(|e| Rfc2136Error::BadReplySignature {
                    server,
                    reason: e.to_string().to_lowercase(),
                })?;
            classify_rcode(rcode, ctx)
        }
    }
}

/// The meaning of an UPDATE rcode (RFC 2136 §2.2; classes per rfc2136-tsig.md §1).
pub(super) fn classify_rcode(rcode: ResponseCode, ctx: &Context<'_>) -> Result<(), Rfc2136Error> {
    let server = ctx.server;
    let zone = ctx.zone.to_string();
    match rcode {
        ResponseCode::NoError => Ok(()),
        ResponseCode::FormErr => Err(Rfc2136Error::FormErr { server, zone }),
        ResponseCode::ServFail => Err(Rfc2136Error::ServFail { server, zone }),
        ResponseCode::NotImp => Err(Rfc2136Error::NotImp { server, zone }),
        ResponseCode::Refused => Err(Rfc2136Error::Refused {
            zone,
            names: ctx.names.clone(),
            key: ctx.key_name.to_string(),
        }),
        // §3.1.2: the server is not authoritative for the zone (the TSIG error case is handled
        // before we get here).
        ResponseCode::NotAuth => Err(Rfc2136Error::NotAuth { server, zone }),
        ResponseCode::NotZone => Err(Rfc2136Error::NotZone {
            zone,
            names: ctx.names.clone(),
        }),
        // NXDOMAIN, YXDOMAIN, YXRRSET, NXRRSET answer prerequisites, and we send none.
        other => Err(Rfc2136Error::UnexpectedRcode {
            server,
            rcode: rcode_name(other),
        }),
    }
}

/// The server's clock from a BADTIME reply's Other Data: a 48-bit time (RFC 8945 §4.3.3).
fn server_time(other: &[u8]) -> Option<u64> {
    match other {
        [a, b, c, d, e, f] => Some(u64::from_be_bytes([0, 0, *a, *b, *c, *d, *e, *f])),
        _ => None,
    }
}

/// The mnemonic of an rcode (RFC 6895 §2.3), as nsupdate and the named log show it.
fn rcode_name(rcode: ResponseCode) -> String {
    match u16::from(rcode) {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        n => format!("rcode {n}"),
    }
}

fn tsig_error_name(error: TsigError) -> String {
    match error {
        TsigError::BadSig => "BADSIG".into(),
        TsigError::BadKey => "BADKEY".into(),
        TsigError::BadTime => "BADTIME".into(),
        TsigError::BadTrunc => "BADTRUNC".into(),
        TsigError::Unknown(n) => format!("tsig error {n}"),
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::Name;
    use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, make_tsig_record};

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn signer(key: &[u8]) -> TSigner {
        let name = Name::from_ascii("dynipd-sha256.").unwrap();
        TSigner::new(key.to_vec(), TsigAlgorithm::HmacSha256, name, 300).unwrap()
    }

    fn ctx<'a>(mac: &'a [u8]) -> Context<'a> {
        Context {
            server: "127.0.0.1:53".parse().unwrap(),
            zone: "example.test",
            key_name: "dynipd-sha256",
            names: vec!["host.example.test".into()],
            request_time: NOW,
            request_mac: mac,
        }
    }

    /// A signed request, and the verifier and request MAC for its reply.
    fn request(key: &[u8]) -> (Message, TSigVerifier, Vec<u8>) {
        let mut msg = Message::query();
        msg.metadata.op_code = OpCode::Update;
        let verifier = msg.finalize(&signer(key), NOW).unwrap().unwrap();
        let mac = msg.signature.as_ref().unwrap().data.mac.clone();
        (msg, verifier, mac)
    }

    /// The server's reply, signed the RFC 8945 §5.3.1 way with `key` when given.
    fn reply(
        request: &Message,
        request_mac: &[u8],
        rcode: ResponseCode,
        key: Option<&[u8]>,
        error: Option<TsigError>,
        time: u64,
    ) -> Vec<u8> {
        let mut reply = Message::response(request.metadata.id, OpCode::Update);
        reply.metadata.response_code = rcode;
        let Some(key) = key else {
            if let Some(error) = error {
                let name = Name::from_ascii("dynipd-sha256.").unwrap();
                let mut stub =
                    TSIG::new(TsigAlgorithm::HmacSha256, NOW, 300, vec![], 0, None, vec![]);
                stub.oid = request.metadata.id;
                stub.error = Some(error);
                reply.set_signature(Box::new(make_tsig_record(name, stub)));
            }
            return reply.to_vec().unwrap();
        };
        let signer = signer(key);
        let unsigned = reply.to_vec().unwrap();
        let mut stub = TSIG::new(
            TsigAlgorithm::HmacSha256,
            time,
            300,
            vec![],
            request.metadata.id,
            error,
            vec![],
        );
        if error == Some(TsigError::BadTime) {
            stub.time = NOW;
            stub.other = (time as u128).to_be_bytes()[10..].to_vec();
        }
        let tbs = signer
            .encode_response_tbs(request_mac, &unsigned, &stub)
            .unwrap();
        let mac = signer.sign(&tbs).unwrap();
        reply.set_signature(Box::new(make_tsig_record(
            signer.signer_name().clone(),
            stub.set_mac(mac),
        )));
        reply.to_vec().unwrap()
    }

    fn run(
        rcode: ResponseCode,
        key: Option<&[u8]>,
        error: Option<TsigError>,
        time: u64,
    ) -> Result<(), Rfc2136Error> {
        let (req, mut verifier, mac) = request(b"the-key");
        let bytes = reply(&req, &mac, rcode, key, error, time);
        check(&bytes, &mut verifier, &signer(b"the-key"), &ctx(&mac))
    }

    #[test]
    fn signed_noerror_is_success() {
        assert_eq!(
            run(ResponseCode::NoError, Some(b"the-key"), None, NOW),
            Ok(())
        );
    }

    #[test]
    fn noerror_signed_with_another_key_is_never_success() {
        let e = run(ResponseCode::NoError, Some(b"other-key"), None, NOW).unwrap_err();
        assert!(matches!(e, Rfc2136Error::BadReplySignature { .. }), "{e:?}");
    }

    #[test]
    fn unsigned_noerror_is_never_success() {
        let e = run(ResponseCode::NoError, None, None, NOW).unwrap_err();
        assert!(matches!(e, Rfc2136Error::Unsigned { .. }), "{e:?}");
    }

    #[test]
    fn badsig_and_badkey_name_the_key() {
        for error in [TsigError::BadSig, TsigError::BadKey] {
            let e = run(ResponseCode::NotAuth, None, Some(error), NOW).unwrap_err();
            assert!(matches!(e, Rfc2136Error::KeyRejected { .. }), "{e:?}");
            assert!(e.to_string().contains("TSIG key 'dynipd-sha256'"));
        }
    }

    #[test]
    fn badtime_reports_the_offset() {
        let e = run(
            ResponseCode::NotAuth,
            Some(b"the-key"),
            Some(TsigError::BadTime),
            NOW + 3600,
        )
        .unwrap_err();
        assert_eq!(
            e,
            Rfc2136Error::ClockSkew {
                offset_secs: Some(3600)
            }
        );
        // A server time equal to ours says nothing about the offset.
        let e = run(
            ResponseCode::NotAuth,
            Some(b"the-key"),
            Some(TsigError::BadTime),
            NOW,
        )
        .unwrap_err();
        assert_eq!(e, Rfc2136Error::ClockSkew { offset_secs: None });
        // A BADTIME whose MAC does not verify names no offset either.
        let e = run(
            ResponseCode::NotAuth,
            Some(b"other-key"),
            Some(TsigError::BadTime),
            NOW + 3600,
        )
        .unwrap_err();
        assert_eq!(e, Rfc2136Error::ClockSkew { offset_secs: None });
    }

    #[test]
    fn rcodes_map_to_errors() {
        let names = ["host.example.test".to_string()];
        let cases = [
            (
                ResponseCode::Refused,
                "refuses name host.example.test for key 'dynipd-sha256'",
            ),
            (
                ResponseCode::NotAuth,
                "not authoritative for zone example.test",
            ),
            (ResponseCode::NotZone, "not in zone example.test"),
            (ResponseCode::ServFail, "SERVFAIL"),
            (ResponseCode::FormErr, "FORMERR"),
            (ResponseCode::NotImp, "NOTIMP"),
            (ResponseCode::NXRRSet, "NXRRSET"),
        ];
        for (rcode, words) in cases {
            let e = run(rcode, Some(b"the-key"), None, NOW).unwrap_err();
            assert!(e.to_string().contains(words), "{rcode:?}: {e}");
            assert_eq!(names.len(), 1);
        }
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let (_, mut verifier, mac) = request(b"the-key");
        let e = check(&[0xff; 7], &mut verifier, &signer(b"the-key"), &ctx(&mac)).unwrap_err();
        assert!(matches!(e, Rfc2136Error::Garbled { .. }), "{e:?}");
    }
}
