namespace Shoal.Discovery;

/// <summary>The msg_type of a BEP 9 ut_metadata message.</summary>
public enum MetadataMessageType
{
    /// <summary>A msg_type this implementation does not know; BEP 9 says to ignore such messages.</summary>
    Unknown = -1,

    /// <summary>0: asks for one 16 KiB piece of the info dictionary.</summary>
    Request = 0,

    /// <summary>1: carries one piece, followed by its raw bytes.</summary>
    Data = 1,

    /// <summary>2: the sender will not serve the requested piece.</summary>
    Reject = 2,
}
