"""Sans-IO codecs: SMPP 3.4 (``smpp/``), SIP for calls (``sip/``: messages, digest, SDP, the
calling and answering state machines), RTP and G.711 (``rtp``, ``g711``), request signatures
(``auth/``: TC3-HMAC-SHA256, signature v1, the v5 ``sig``) and API 3.0 form flattening
(``flat_params``). Bytes in, objects out, no sockets, no clock."""
