"""API 3.0 (service ``sms``, versions 2021-01-11 and 2019-07-11; service ``vms``, version
2020-09-02): who is calling (``auth``), typed parameters (``params``), one function per action
(``sms``, ``sms2019``, ``vms``), Tencent's response envelope (``envelope``)."""
