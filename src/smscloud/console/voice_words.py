"""The voice section's words in Chinese and English, and the voice template lint findings in
the page's language.

Lint findings come from the domain (``domain.voice_templates.lint_voice_template``) as English
sentences with a Tencent code; the console shows each as one of the keys below, so a Chinese
page has no English in it. A finding this module does not know yet is shown as its code and
sentence rather than hidden.
"""

from __future__ import annotations

from smscloud.domain.voice_templates import MAX_VOICE_CHARS, lint_voice_template

__all__ = ["LINT", "OPERATOR", "TENANT", "lint_key", "lint_keys"]

# The domain's sentence -> the key of its translation.
LINT: dict[str, str] = {
    "template content is empty": "vc_lint_empty",
    f"template content is longer than {MAX_VOICE_CHARS} characters": "vc_lint_long",
    "variables are numbered from {1}; {0} is not allowed": "vc_lint_zero",
    "malformed variable: use {1}, {2}, ... with matching braces": "vc_lint_malformed",
    "variables must be numbered consecutively starting at {1}": "vc_lint_consecutive",
    "two variables may not be adjacent, as in {1}{2}": "vc_lint_adjacent",
    "template may not consist of variables only": "vc_lint_only_variables",
    "a variable may not be part of a link, as in www.{1}.com": "vc_lint_link",
}


def lint_key(message: str, code: str = "") -> str:
    """The key of a finding's translation, or the finding itself when it has none."""
    return LINT.get(message) or (f"{code}: {message}" if code else message)


def lint_keys(content: str) -> list[str]:
    """What is wrong with a voice template's text, as keys to translate."""
    return [lint_key(f.message, f.code) for f in lint_voice_template(content)]


TENANT: dict[str, tuple[str, str]] = {
    # navigation and headings
    "nav_voice": ("语音", "Voice"),
    "vc_templates": ("语音模板", "Voice templates"),
    "vc_files": ("语音文件", "Voice files"),
    "vc_send": ("发送语音", "Send a voice message"),
    "vc_records": ("通话记录", "Call records"),
    "vc_call": ("通话详情", "Call details"),
    "vc_stats": ("语音统计", "Voice statistics"),
    # who may use voice
    "vc_denied_title": ("语音消息不可用", "Voice messages are not available"),
    "vc_deny_individual": (
        "语音消息（语音验证码和语音通知）仅向企业认证用户开放。您的账号为个人认证，"
        "可在实名认证页面申请升级为企业认证，审核通过后即可使用。",
        "Voice messages (voice codes and voice notifications) are for enterprise-verified "
        "accounts only. Your account is verified as an individual: apply on the identity page "
        "to upgrade to an enterprise; once that is approved, voice is yours to use.",
    ),
    "vc_deny_unverified": (
        "语音消息仅向企业认证用户开放。请先完成企业实名认证，审核通过后即可使用。",
        "Voice messages are for enterprise-verified accounts only. Verify your account as an "
        "enterprise first; once that is approved, voice is yours to use.",
    ),
    "vc_go_identity": ("前往实名认证", "Go to identity verification"),
    # templates
    "vc_new_template": ("申请语音模板", "Apply for a voice template"),
    "vc_edit_template": ("修改语音模板", "Modify the voice template"),
    "vc_content": ("语音内容", "Spoken content"),
    "vc_content_hint": (
        "变量写作 {1}、{2}……；全文最多 350 个字；参数里的数字会逐位朗读。",
        "Variables are written {1}, {2}…; at most 350 characters in all; digits in the "
        "parameters are read one by one.",
    ),
    "vc_no_templates": ("暂无语音模板。", "No voice templates yet."),
    "vc_template_created": (
        "语音模板已提交审核。",
        "The voice template was submitted for review.",
    ),
    "vc_err_template_limit": (
        "语音模板数量已达上限（1000 个）。",
        "You have 1,000 voice templates, the most allowed.",
    ),
    "vc_err_gone": ("该语音模板不存在或已删除。", "That voice template does not exist."),
    "vc_lint_empty": ("模板内容不能为空。", "The content must not be empty."),
    "vc_lint_long": (
        "模板内容不能超过 350 个字。",
        "The content may be at most 350 characters long.",
    ),
    "vc_lint_zero": (
        "变量从 {1} 开始编号，不能使用 {0}。",
        "Variables are numbered from {1}; {0} is not allowed.",
    ),
    "vc_lint_malformed": (
        "变量格式错误：请使用 {1}、{2}……，括号须成对。",
        "Malformed variable: write {1}, {2}… with matching braces.",
    ),
    "vc_lint_consecutive": (
        "变量须从 {1} 开始连续编号。",
        "Variables must be numbered one after another from {1}.",
    ),
    "vc_lint_adjacent": (
        "两个变量不能紧挨着，如 {1}{2}。",
        "Two variables may not be adjacent, as in {1}{2}.",
    ),
    "vc_lint_only_variables": (
        "模板不能只由变量组成。",
        "A template may not consist of variables only.",
    ),
    "vc_lint_link": (
        "变量不能作为链接的一部分，如 www.{1}.com。",
        "A variable may not be part of a link, as in www.{1}.com.",
    ),
    # files
    "vc_upload": ("上传语音文件", "Upload a voice file"),
    "vc_file": ("录音文件", "Recording"),
    "vc_file_hint": (
        "MP3 或 WAV，不超过 400 KB、300 秒；格式按文件内容判断，与文件名无关。"
        "上传后需运营人员审核。",
        "MP3 or WAV, at most 400 KB and 300 seconds; the format is read from the content, "
        "not the name. An operator reviews each upload.",
    ),
    "vc_upload_button": ("上传", "Upload"),
    "vc_file_id": ("文件 ID", "File ID"),
    "vc_format": ("格式", "Format"),
    "vc_size": ("大小", "Size"),
    "vc_duration": ("时长", "Duration"),
    "vc_listen": ("试听", "Listen"),
    "vc_uploaded_at": ("上传时间", "Uploaded"),
    "vc_no_files": ("暂无语音文件。", "No voice files yet."),
    "vc_file_uploaded": (
        "语音文件已上传，等待审核。",
        "The voice file was uploaded and awaits review.",
    ),
    "vc_err_file_missing": (
        "请选择要上传的 MP3 或 WAV 文件。",
        "Choose an MP3 or WAV file to upload.",
    ),
    "vc_err_file_size": ("文件不能超过 400 KB。", "The file may be at most 400 KB."),
    "vc_err_file_long": ("录音不能超过 300 秒。", "The recording may last at most 300 seconds."),
    "vc_err_file_format": (
        "该文件不是有效的 MP3 或 WAV 录音（按文件内容判断）。",
        "This file is no valid MP3 or WAV recording (judged by its content).",
    ),
    "vc_err_file_limit": (
        "语音文件数量已达上限（100 个），请先删除不用的文件。",
        "You have 100 voice files, the most allowed: delete one first.",
    ),
    "vc_audio_unsupported": ("您的浏览器无法播放音频。", "Your browser cannot play audio."),
    # sending
    "vc_code_title": ("语音验证码", "Voice code"),
    "vc_code_note": (
        "拨打号码并朗读验证码（1 到 12 位数字）。",
        "Calls the number and reads the code aloud (1 to 12 digits).",
    ),
    "vc_notice_title": ("语音通知", "Voice notification"),
    "vc_notice_note": (
        "拨打号码并朗读一个已通过审核的语音模板。",
        "Calls the number and reads an approved voice template aloud.",
    ),
    "vc_phone": ("被叫号码", "Number to call"),
    "vc_code": ("验证码", "Code"),
    "vc_play_times": ("播放次数（1–3）", "Play times (1–3)"),
    "vc_template": ("语音模板", "Voice template"),
    "vc_call_button": ("拨打", "Call"),
    "vc_accepted": ("呼叫已受理", "Call accepted"),
    "vc_call_id": ("呼叫 ID", "Call ID"),
    "vc_view_record": ("查看通话记录", "See the call record"),
    "vc_missing_app": (
        "发送语音需要一个应用，请先在概览页创建。",
        "Sending needs an application: create one on the dashboard first.",
    ),
    "vc_missing_template": (
        "还没有通过审核的语音模板。",
        "No voice template is approved yet.",
    ),
    "vc_err_app": ("请选择一个有效的应用。", "Choose one of your active applications."),
    "vc_err_phone": ("号码格式不正确。", "This is not a valid phone number."),
    "vc_err_code": ("验证码须为 1 到 12 位数字。", "The code must be 1 to 12 digits."),
    "vc_err_play_times": (
        "播放次数须为 1 到 3 之间的整数。",
        "Play times must be a whole number from 1 to 3.",
    ),
    "vc_err_template": (
        "请选择一个已通过审核的语音模板。",
        "Choose an approved voice template.",
    ),
    "vc_err_param_empty": ("参数不能为空。", "The parameter must not be empty."),
    "vc_err_param_long": ("参数不能超过 20 个字。", "A parameter may be at most 20 characters."),
    "vc_err_content_long": (
        "填入参数后内容超过 350 个字。",
        "With these parameters the content is longer than 350 characters.",
    ),
    "vc_err_frequency": (
        "对该号码的呼叫过于频繁（每 30 秒 1 次、每 10 分钟 2 次、每天 3 次），"
        "或正处于免打扰时段（22:00–08:00）。",
        "This number was called as often as allowed (once in 30 seconds, twice in 10 minutes, "
        "three times a day), or it is quiet hours (22:00–08:00).",
    ),
    "vc_err_country": (
        "不支持呼叫该国家或地区的号码。",
        "Calls to this country or region are not offered.",
    ),
    "vc_err_arrears": (
        "账单已逾期，语音服务已暂停。",
        "A bill is overdue: voice is suspended until it is paid.",
    ),
    "vc_err_refused": ("请求被拒绝。", "The request was refused."),
    # records
    "vc_number": ("号码", "Number"),
    "vc_kind": ("类型", "Kind"),
    "vc_kind_code": ("语音验证码", "Voice code"),
    "vc_kind_template": ("语音通知", "Notification"),
    "vc_kind_prompt": ("语音提示", "Prompt"),
    "vc_kind_file": ("录音文件", "Recording"),
    "vc_st_QUEUED": ("排队中", "Queued"),
    "vc_st_CLAIMED": ("准备呼叫", "About to dial"),
    "vc_st_CALLING": ("呼叫中", "Calling"),
    "vc_st_RINGING": ("振铃中", "Ringing"),
    "vc_st_ANSWERED": ("通话中", "In the call"),
    "vc_st_ENDED": ("已结束", "Ended"),
    "vc_st_FAILED": ("失败", "Failed"),
    "vc_ring": ("振铃时长", "Ring time"),
    "vc_talk": ("通话时长", "Talk time"),
    "vc_ring_s": ("振铃（秒）", "Ring (s)"),
    "vc_talk_s": ("通话（秒）", "Talk (s)"),
    "vc_minutes": ("计费分钟", "Billed minutes"),
    "vc_fee": ("费用", "Fee"),
    "vc_failure": ("失败原因", "Failure reason"),
    "vc_keys": ("按键", "Keys pressed"),
    "vc_recording": ("录音", "Recording"),
    "vc_all_apps": ("全部应用", "All applications"),
    "vc_all_states": ("全部状态", "All states"),
    "vc_none": ("最近 7 天没有通话。", "No calls in the last 7 days."),
    "vc_window": (
        "最近 7 天的通话，每 5 秒自动刷新。",
        "Calls of the last 7 days, refreshed every 5 seconds.",
    ),
    "vc_seconds": ("{n} 秒", "{n} s"),
    "vc_text": ("朗读内容", "Spoken text"),
    "vc_accepted_at": ("受理时间", "Accepted"),
    "vc_dialled_at": ("呼出时间", "Dialled"),
    "vc_ringing_at": ("振铃时间", "Ringing from"),
    "vc_answered_at": ("接听时间", "Answered"),
    "vc_ended_at": ("结束时间", "Ended"),
    "vc_hung_up_by": ("挂断方", "Hung up by"),
    "vc_hung_up_us": ("平台（播放完毕）", "The platform (done playing)"),
    "vc_hung_up_them": ("被叫用户", "The callee"),
    "vc_no_recording": ("没有录音。", "No recording."),
    "vc_recording_note": (
        "内置电话网络录下的被叫方听到的声音。",
        "What the callee heard, as the built-in phone network recorded it.",
    ),
    # statistics
    "vc_stats_calls": ("呼叫", "Calls"),
    "vc_stats_answered": ("接通", "Answered"),
    "vc_stats_failed": ("失败", "Failed"),
    "vc_stats_minutes": ("计费分钟", "Billed minutes"),
    "vc_stats_rate": ("接通率", "Answer rate"),
}

OPERATOR: dict[str, tuple[str, str]] = {
    "nav_voice_reviews": ("语音审核", "Voice reviews"),
    "vr_title": ("语音模板与文件审核", "Voice template and file review"),
    "vr_templates": ("语音模板", "Voice templates"),
    "vr_files": ("语音文件", "Voice files"),
    "vr_pending": ("待审核语音", "Voice reviews"),
    "vr_pending_note": (
        "语音模板和语音文件待审核数",
        "Voice templates and files awaiting review",
    ),
    "vr_elsewhere": (
        "语音模板和语音文件在语音审核页审核，待审核：",
        "Voice templates and files are reviewed on the voice review page; waiting:",
    ),
    "vr_gone": (
        "该内容已被处理或不存在。",
        "That item was already decided or does not exist.",
    ),
}
