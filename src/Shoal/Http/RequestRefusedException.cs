namespace Shoal.Http;

/// <summary>
/// An HTTP request the SSRF mitigation would not send (<see cref="SsrfRules"/>): the message says which rule and why.
/// Web seeds and trackers turn it into their own errors; retrying cannot help while the URL and the setting stay.
/// </summary>
internal sealed class RequestRefusedException(string message) : Exception(message);
