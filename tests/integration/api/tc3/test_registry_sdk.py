"""Signature and template actions through the SDK, with the operator's review in between."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20190711 import models as models_2019
from tencentcloud.sms.v20210111 import models

from tests.support.live import LiveServer

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
GIF = base64.b64encode(b"GIF89a" + b"\0" * 64).decode()


def call(client: Any, action: str, body: dict[str, Any], mod: Any = models) -> Any:
    req = getattr(mod, f"{action}Request")()
    req.from_json_string(json.dumps(body))
    return getattr(client, action)(req)


def code_of(client: Any, action: str, body: dict[str, Any]) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        call(client, action, body)
    return str(info.value.code)


def sign_body(name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "SignName": name,
        "SignType": 0,
        "DocumentType": 1,
        "International": 0,
        "SignPurpose": 0,
        "ProofImage": PNG,
    }
    body.update(extra)
    return body


def template_body(content: str, sms_type: int = 3, **extra: Any) -> dict[str, Any]:
    body = {
        "TemplateName": "验证码",
        "TemplateContent": content,
        "SmsType": sms_type,
        "International": 0,
        "Remark": "login",
    }
    body.update(extra)
    return body


def test_sign_lifecycle(server: LiveServer) -> None:
    t = server.tenant(sign=None, template=None)
    c = server.client(t)
    sign_id = call(c, "AddSmsSign", sign_body("新公司")).AddSignStatus.SignId
    assert isinstance(sign_id, int)
    assert code_of(c, "AddSmsSign", sign_body("新公司")) == (
        "InvalidParameterValue.SignExistAndUnapproved"
    )
    listed = call(c, "DescribeSmsSignList", {"International": 0, "SignIdSet": [sign_id]})
    item = listed.DescribeSignListStatusSet[0]
    assert (item.SignId, item.SignName, item.StatusCode, item.International) == (
        sign_id,
        "新公司",
        1,
        0,
    )
    assert item.CreateTime > 0

    assert (
        call(c, "ModifySmsSign", sign_body("新公司二", SignId=sign_id)).ModifySignStatus.SignId
        == sign_id
    )
    server.approve("sign", sign_id)
    listed = call(c, "DescribeSmsSignList", {"International": 0, "Limit": 10, "Offset": 0})
    assert [(i.SignName, i.StatusCode) for i in listed.DescribeSignListStatusSet] == [
        ("新公司二", 0)
    ]
    assert code_of(c, "ModifySmsSign", sign_body("新公司三", SignId=sign_id)) == (
        "InvalidParameterValue.SignAlreadyPassedCheck"
    )
    deleted = call(c, "DeleteSmsSign", {"SignId": sign_id}).DeleteSignStatus
    assert deleted.DeleteStatus == "return successfully!" and deleted.DeleteTime > 0
    assert code_of(c, "DeleteSmsSign", {"SignId": sign_id}) == "FailedOperation.SignIdNotExist"
    assert code_of(c, "ModifySmsSign", sign_body("新公司三", SignId=999999)) == (
        "FailedOperation.MissingSignatureToModify"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (sign_body("A"), "InvalidParameter.InvalidParameters"),
        (sign_body("一二三四五六七八九十一二三"), "InvalidParameterValue.SignNameLengthTooLong"),
        (sign_body("好公司", DocumentType=7), "InvalidParameterValue.InvalidDocumentType"),
        (sign_body("好公司", International=2), "InvalidParameterValue.InvalidInternational"),
        (sign_body("好公司", ProofImage="not base64!"), "InvalidParameterValue.ImageInvalid"),
        # An image is a PNG or a JPEG by its first bytes, as an identity document is.
        (sign_body("好公司", ProofImage=GIF), "InvalidParameterValue.ImageInvalid"),
        (
            sign_body("好公司", SignPurpose=1, CommissionImage=GIF),
            "InvalidParameterValue.ImageInvalid",
        ),
        ({"SignName": "好公司"}, "MissingParameter"),
    ],
)
def test_sign_validation(server: LiveServer, body: dict[str, Any], code: str) -> None:
    t = server.tenant(sign=None, template=None)
    assert code_of(server.client(t), "AddSmsSign", body) == code


def test_version_2019_07_11_errors_name_its_own_fields(server: LiveServer) -> None:
    # Tencent SMS API 2019-07-11, AddSmsSign: it says UsedMethod where 2021-01-11 says
    # SignPurpose, and has its own code.
    t = server.tenant(sign=None, template=None)
    c = server.client_2019(t)
    body = sign_body("新公司")
    body["UsedMethod"] = body.pop("SignPurpose")

    def error(fields: dict[str, Any]) -> TencentCloudSDKException:
        with pytest.raises(TencentCloudSDKException) as info:
            call(c, "AddSmsSign", fields, models_2019)
        return info.value

    bad = error(body | {"UsedMethod": 5})
    assert bad.code == "InvalidParameterValue.InvalidUsedMethod"
    assert "UsedMethod" in bad.message and "SignPurpose" not in bad.message
    missing = error({k: v for k, v in body.items() if k != "UsedMethod"})
    assert missing.code == "MissingParameter"
    assert "`UsedMethod`" in missing.message and "SignPurpose" not in missing.message
    sign_id = call(c, "AddSmsSign", body, models_2019).AddSignStatus.SignId
    modify = body | {"SignId": sign_id, "UsedMethod": 2}
    with pytest.raises(TencentCloudSDKException) as info:
        call(c, "ModifySmsSign", modify, models_2019)
    assert info.value.code == "InvalidParameterValue.InvalidUsedMethod"


def test_template_lifecycle_and_send_after_approval(server: LiveServer) -> None:
    t = server.tenant(sign=None, template=None)
    c = server.client(t)
    assert code_of(c, "AddSmsTemplate", template_body("您的验证码是{1}")) == (
        "FailedOperation.MissingSignature"
    )
    sign_id = call(c, "AddSmsSign", sign_body("新公司")).AddSignStatus.SignId
    tid = call(c, "AddSmsTemplate", template_body("您的验证码是{1}")).AddTemplateStatus.TemplateId
    assert isinstance(tid, str)  # a string here, an integer in ModifySmsTemplate
    modified = call(c, "ModifySmsTemplate", template_body("您的验证码为{1}。", TemplateId=int(tid)))
    assert modified.ModifyTemplateStatus.TemplateId == int(tid)
    listed = call(c, "DescribeSmsTemplateList", {"International": 0, "TemplateIdSet": [int(tid)]})
    item = listed.DescribeTemplateStatusSet[0]
    assert (item.TemplateId, item.StatusCode, item.TemplateContent) == (
        int(tid),
        1,
        "您的验证码为{1}。",
    )

    send = {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": t.sdk_app_id,
        "TemplateId": tid,
        "SignName": "新公司",
        "TemplateParamSet": ["1234"],
    }
    assert code_of(c, "SendSms", send) == "FailedOperation.TemplateIncorrectOrUnapproved"
    server.approve("template", int(tid))
    assert code_of(c, "SendSms", send) == "FailedOperation.SignatureIncorrectOrUnapproved"
    server.approve("sign", sign_id)
    assert call(c, "SendSms", send).SendStatusSet[0].Code == "Ok"

    assert code_of(c, "ModifySmsTemplate", template_body("改{1}", TemplateId=int(tid))) == (
        "FailedOperation.TemplateAlreadyPassedCheck"
    )
    assert (
        call(c, "DeleteSmsTemplate", {"TemplateId": int(tid)}).DeleteTemplateStatus.DeleteTime > 0
    )
    assert code_of(c, "DeleteSmsTemplate", {"TemplateId": int(tid)}) == (
        "FailedOperation.TemplateIdNotExist"
    )
    assert code_of(c, "SendSms", send) == "FailedOperation.TemplateIncorrectOrUnapproved"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (template_body("{1}{2}", sms_type=2), "InvalidParameterValue.InvalidTemplateFormat"),
        (template_body("验证码{2}"), "InvalidParameterValue.InvalidTemplateFormat"),
        (template_body("【公司】验证码{1}"), "InvalidParameterValue.InvalidTemplateFormat"),
        (
            template_body("新品上市，全场八折", sms_type=1),
            "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe",
        ),
        (template_body("验证码{1}", sms_type=9), "InvalidParameterValue.InvalidSmsType"),
        (template_body("验证码{1}", International=5), "InvalidParameterValue.InvalidInternational"),
    ],
)
def test_template_lint(server: LiveServer, body: dict[str, Any], code: str) -> None:
    t = server.tenant(template=None)
    assert code_of(server.client(t), "AddSmsTemplate", body) == code


def test_marketing_template_with_opt_out_is_accepted(server: LiveServer) -> None:
    t = server.tenant(template=None)
    out = call(
        server.client(t),
        "AddSmsTemplate",
        template_body("新品上市，全场八折，拒收请回复R", sms_type=1),
    )
    assert out.AddTemplateStatus.TemplateId.isdigit()


def test_individual_accounts_cannot_use_sign_and_template_apis(server: LiveServer) -> None:
    t = server.tenant(account_type="individual")
    c = server.client(t)
    for action, body in [
        ("AddSmsSign", sign_body("个人签名")),
        ("AddSmsTemplate", template_body("验证码{1}")),
        ("DescribeSmsSignList", {"International": 0}),
        ("DescribeSmsTemplateList", {"International": 0}),
        ("DeleteSmsTemplate", {"TemplateId": int(t.template_id)}),
    ]:
        assert code_of(c, action, body) == "FailedOperation.NotEnterpriseCertification", action


def test_list_paging_limits(server: LiveServer) -> None:
    t = server.tenant()
    c = server.client(t)
    assert code_of(c, "DescribeSmsTemplateList", {"International": 0, "Limit": 101}) == (
        "InvalidParameterValue.LimitVerifyFail"
    )
    listed = call(c, "DescribeSmsTemplateList", {"International": 0, "Limit": 10, "Offset": 0})
    assert [i.TemplateId for i in listed.DescribeTemplateStatusSet] == [int(t.template_id)]
