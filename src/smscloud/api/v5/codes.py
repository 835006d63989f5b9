"""API 3.0 error codes -> the legacy v5 API's numeric ``result``.

Paired by their descriptions in legacy v5 API: error codes
(cloud.tencent.com/document/product/382/3771) and Tencent SMS API 3.0 error codes
(cloud.tencent.com/document/product/382/59177); Tencent publishes no such table.
"""

from __future__ import annotations

LEGACY_RESULT: dict[str, int] = {
    "Ok": 0,
    "InternalError.SigVerificationFail": 1001,
    "AuthFailure.SignatureFailure": 1001,
    "FailedOperation.ContainSensitiveWord": 1002,
    "InternalError.SigFieldMissing": 1003,
    "FailedOperation.FailResolvePacket": 1004,
    "FailedOperation.JsonParseFail": 1004,
    "MissingParameter": 1004,
    "InvalidParameter": 1004,
    "InvalidParameterValue": 1004,  # a value of the wrong range: the body is not per spec
    "UnauthorizedOperation.RequestPermissionDeny": 1006,
    "NotEnterpriseCertification": 1006,
    "FailedOperation.NotEnterpriseCertification": 1006,
    "InternalError.OtherError": 1007,
    "FailedOperation.OtherError": 1007,
    "InternalError.Timeout": 1008,
    "UnauthorizedOperation.RequestIpNotInWhitelist": 1009,
    "InternalError.RestApiInterfaceNotExist": 1011,
    "FailedOperation.SignatureIncorrectOrUnapproved": 1012,
    "LimitExceeded.DeliveryFrequencyLimit": 1013,
    "FailedOperation.TemplateIncorrectOrUnapproved": 1014,
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": 1014,
    "FailedOperation.TemplateUnapprovedOrNotExist": 1014,
    "FailedOperation.PhoneNumberInBlacklist": 1015,
    "InvalidParameterValue.IncorrectPhoneNumber": 1016,
    "InvalidParameterValue.ContentLengthLimit": 1017,
    "InvalidParameterValue.SdkAppIdNotExist": 1019,
    "UnauthorizedOperation.SdkAppIdIsDisabled": 1020,
    "InternalError.RequestTimeException": 1021,
    "LimitExceeded.AppDailyLimit": 1022,
    "LimitExceeded.PhoneNumberThirtySecondLimit": 1023,
    "LimitExceeded.PhoneNumberOneHourLimit": 1024,
    "LimitExceeded.PhoneNumberDailyLimit": 1025,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": 1026,
    "FailedOperation.MarketingSendTimeConstraint": 1029,
    "UnsupportedOperation": 1030,
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": 1030,
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone": 1030,
    "FailedOperation.InsufficientBalanceInSmsPackage": 1031,
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": 1032,
    "UnauthorizedOperation.ServiceSuspendDueToArrears": 1033,
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": 1034,
    "InvalidParameterValue.TemplateParameterLengthLimit": 1036,
    "InvalidParameterValue.TemplateParameterFormatError": 1038,
    "UnsupportedOperation.UnsupportedRegion": 1045,
    "LimitExceeded.PhoneNumberCountLimit": 1046,
    "LimitExceeded.DailyLimit": 1047,
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": 1048,
}
OTHER_ERROR = 1007


def legacy_result(code: str) -> int:
    """The v5 ``result`` for an API 3.0 code; 1007 (other error) when there is none."""
    return LEGACY_RESULT.get(code, OTHER_ERROR)
