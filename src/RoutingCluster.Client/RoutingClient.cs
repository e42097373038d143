using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace RoutingCluster.Client;

/// <summary>
/// The RoutingCluster HTTP API (v1) for channel gateways and admin tools: sessions, queues, agents, and a
/// session's live events. Every method takes a <see cref="CancellationToken"/> that bounds the whole call,
/// retries included.
/// <para>
/// Errors: an answer that is not a success becomes a <see cref="RoutingApiException"/> with the status and the
/// problem details (title, detail, field errors). A transport failure that outlasts the retries is thrown as the
/// <see cref="HttpRequestException"/> it was; an attempt that outlasts <see cref="RoutingClientOptions.AttemptTimeout"/>
/// (the last one, or one that may not be repeated) as a <see cref="TimeoutException"/>.
/// </para>
/// <para>
/// Retries (see <see cref="RetryPolicy"/>): GET, PUT, setting an agent's state and creating a session are
/// retried on transient failures. A create always carries an <c>Idempotency-Key</c> (the caller's, or one
/// generated per call) and every retry repeats it, so retries never create a second session. Accept, reject,
/// end, wrap-up-done, abandon and transfer are NOT idempotent: they are retried only when no connection could be
/// made (the server never saw them); after any other failure, read the agent or session to learn the outcome.
/// </para>
/// Thread-safe; use one instance per base address.
/// </summary>
public sealed class RoutingClient : IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly RoutingClientOptions _options;
    private readonly Uri _baseAddress;

    /// <summary>A client over <paramref name="http"/> (for example one from <c>IHttpClientFactory</c>); the caller
    /// keeps ownership of it. The base address is <see cref="RoutingClientOptions.BaseAddress"/>, or else the
    /// HttpClient's.</summary>
    public RoutingClient(HttpClient http, RoutingClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _options = options ?? new RoutingClientOptions();
        _baseAddress = WithTrailingSlash(_options.BaseAddress ?? http.BaseAddress
            ?? throw new ArgumentException("Give RoutingClientOptions.BaseAddress or an HttpClient with a BaseAddress.", nameof(http)));
    }

    /// <summary>A client with an HttpClient of its own (disposed with the client).</summary>
    public RoutingClient(Uri baseAddress, RoutingClientOptions? options = null)
        : this(CreateHttpClient(), (options ?? new RoutingClientOptions()) with { BaseAddress = baseAddress ?? throw new ArgumentNullException(nameof(baseAddress)) }) =>
        _ownsHttp = true;

    public Uri BaseAddress => _baseAddress;

    // ---- Sessions (gateways, support) ----

    /// <summary>
    /// <c>POST /v1/sessions</c>. Sends <paramref name="idempotencyKey"/>, or a new key when it is null, and repeats
    /// it on every retry: a retry after a lost answer reaches the session the first attempt created (the server
    /// answers 200 with it: <see cref="SessionCreated.AlreadyExisted"/>). To retry later yourself, keep
    /// <see cref="SessionCreated.IdempotencyKey"/> and send the same request with it.
    /// </summary>
    /// <exception cref="RoutingApiException">400 with field errors (an unknown queue names <c>queueId</c>); 409 when
    /// the queue is full (<see cref="RoutingApiException.IsQueueFull"/>: the session exists, refused) or the key was
    /// used for another request (<see cref="RoutingApiException.IsIdempotencyKeyReused"/>).</exception>
    public async Task<SessionCreated> CreateSessionAsync(CreateSessionRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = idempotencyKey ?? NewIdempotencyKey();
        return await SendAsync(
            HttpMethod.Post,
            "v1/sessions",
            () => JsonContent.Create(request, options: RoutingJson.Options),
            key,
            RetryMode.Idempotent,
            async (response, ct) => new SessionCreated(
                await ReadAsync<ClientSessionView>(response, ct).ConfigureAwait(false),
                key,
                AlreadyExisted: response.StatusCode != System.Net.HttpStatusCode.Created),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new idempotency key, as <see cref="CreateSessionAsync"/> makes one when the caller gives none.</summary>
    public static string NewIdempotencyKey() => "rc-" + Guid.NewGuid().ToString("N");

    /// <summary><c>GET /v1/sessions/{id}</c>.</summary>
    public Task<ClientSessionView> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<ClientSessionView>(HttpMethod.Get, $"v1/sessions/{Escape(sessionId)}", null, RetryMode.Idempotent, cancellationToken);

    /// <summary><c>POST /v1/sessions/{id}/abandon</c>: the customer left while queued or offered (409 otherwise).
    /// Not idempotent: retried only when no connection could be made.</summary>
    public Task<ClientSessionView> AbandonAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<ClientSessionView>(HttpMethod.Post, $"v1/sessions/{Escape(sessionId)}/abandon", null, RetryMode.IfNeverSent, cancellationToken);

    /// <summary><c>POST /v1/sessions/{id}/callback</c>: the customer of a queued session leaves the line to be called
    /// back, at once (<paramref name="at"/> null, keeping the place) or at <paramref name="at"/> (within 7 days). The
    /// gateway keeps the customer's number; once an agent accepts, the session is connected and the gateway dials.
    /// The same request again answers the session as it is (a request with another time answers 409), so it is retried
    /// like a read.</summary>
    public Task<ClientSessionView> RequestCallbackAsync(string sessionId, DateTimeOffset? at = null, CancellationToken cancellationToken = default) =>
        SendAsync<ClientSessionView>(
            HttpMethod.Post, $"v1/sessions/{Escape(sessionId)}/callback",
            () => JsonContent.Create(new CallbackRequest { At = at?.ToUniversalTime() }, options: RoutingJson.Options), RetryMode.Idempotent, cancellationToken);

    /// <summary><c>POST /v1/sessions/{id}/transfer</c>: moves a connected session to another queue or agent.
    /// Not idempotent: retried only when no connection could be made.</summary>
    public Task<ClientSessionView> TransferAsync(string sessionId, TransferRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<ClientSessionView>(
            HttpMethod.Post, $"v1/sessions/{Escape(sessionId)}/transfer", () => JsonContent.Create(request, options: RoutingJson.Options), RetryMode.IfNeverSent, cancellationToken);
    }

    /// <summary>
    /// <c>GET /v1/sessions/{id}/events</c>: the session's server-sent events, parsed. The first is <c>state</c>
    /// (<see cref="SessionEvent.Snapshot"/>); then one per change (<see cref="SessionEvent.Update"/>): queued,
    /// offered, connected, ended, completed, abandoned, overflowed, transferred, refused. Keep-alives are skipped,
    /// and so are updates the snapshot already shows (the server may deliver one just after it).
    /// The sequence ends after the session's terminal event. If the stream breaks before that, the client
    /// follows again (with the retry policy's backoff) and the next event is a fresh <c>state</c>.
    /// </summary>
    /// <exception cref="RoutingApiException">404 when the session does not exist.</exception>
    public async IAsyncEnumerable<SessionEvent> FollowSessionAsync(string sessionId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = $"v1/sessions/{Escape(sessionId)}/events";
        var broken = 0;
        var seen = new SeenTransitions();
        while (true)
        {
            using (var response = await OpenEventStreamAsync(path, cancellationToken).ConfigureAwait(false))
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    var items = SseParser.Create(stream, ParseEvent).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                    await using (items.ConfigureAwait(false))
                    {
                        while (true)
                        {
                            SseItem<EventData?> item;
                            try
                            {
                                if (!await items.MoveNextAsync().ConfigureAwait(false))
                                {
                                    break;
                                }

                                item = items.Current;
                            }
                            catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                            {
                                break;
                            }

                            if (item.Data is not { } data)
                            {
                                continue;
                            }

                            var evt = new SessionEvent(item.EventType, item.EventId, data.Snapshot, data.Update);
                            if (!seen.Admit(evt))
                            {
                                continue;
                            }

                            if (evt.Update is not null)
                            {
                                broken = 0;
                            }

                            yield return evt;
                            if (evt.IsTerminal)
                            {
                                yield break;
                            }
                        }
                    }
                }
            }

            // The stream ended before the session did (a proxy timeout, a silo restart): follow again.
            if (++broken >= Math.Max(1, _options.Retry.MaxAttempts))
            {
                throw new IOException($"The event stream of session '{sessionId}' ended {broken} times before the session ended.");
            }

            await Task.Delay(_options.Retry.DelayBefore(broken), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---- Queues (admins) ----

    /// <summary><c>PUT /v1/queues/{id}</c>: creates or replaces the queue's configuration.</summary>
    public Task<QueueConfig> PutQueueAsync(string queueId, QueueSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return SendAsync<QueueConfig>(HttpMethod.Put, $"v1/queues/{Escape(queueId)}", () => JsonContent.Create(settings, options: RoutingJson.Options), RetryMode.Idempotent, cancellationToken);
    }

    /// <summary><c>GET /v1/queues/{id}</c>.</summary>
    public Task<QueueConfig> GetQueueAsync(string queueId, CancellationToken cancellationToken = default) =>
        SendAsync<QueueConfig>(HttpMethod.Get, $"v1/queues/{Escape(queueId)}", null, RetryMode.Idempotent, cancellationToken);

    /// <summary><c>GET /v1/queues/{id}/staffing</c>: how many agents a load needs (supervisors, analysts). A
    /// <see cref="StaffingQuestion"/> field left null takes the server's default (arrivals and AHT measured in the
    /// queue over the last 60 minutes, target 0.8, the queue's threshold, no patience, the formula).</summary>
    public Task<StaffingAnswer> GetStaffingAsync(string queueId, StaffingQuestion? question = null, CancellationToken cancellationToken = default) =>
        SendAsync<StaffingAnswer>(HttpMethod.Get, $"v1/queues/{Escape(queueId)}/staffing{(question ?? new StaffingQuestion()).ToQuery()}", null, RetryMode.Idempotent, cancellationToken);

    /// <summary><c>GET /v1/queues/{id}/agents</c>: the agents serving the queue, with their states (supervisors).</summary>
    public Task<IReadOnlyList<AgentView>> GetQueueAgentsAsync(string queueId, CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<AgentView>>(HttpMethod.Get, $"v1/queues/{Escape(queueId)}/agents", null, RetryMode.Idempotent, cancellationToken);

    // ---- Alerts (supervisors, analysts) ----

    /// <summary><c>GET /v1/alerts</c>: the queues' active alerts.</summary>
    public Task<IReadOnlyList<QueueAlert>> GetAlertsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<QueueAlert>>(HttpMethod.Get, "v1/alerts", null, RetryMode.Idempotent, cancellationToken);

    // ---- Agents (admins, supervisors, agent apps) ----

    /// <summary><c>PUT /v1/agents/{id}</c>: creates the agent (logged-out) or replaces its profile.</summary>
    public Task<AgentView> PutAgentAsync(string agentId, AgentProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return SendAsync<AgentView>(HttpMethod.Put, $"v1/agents/{Escape(agentId)}", () => JsonContent.Create(profile, options: RoutingJson.Options), RetryMode.Idempotent, cancellationToken);
    }

    /// <summary><c>GET /v1/agents/{id}</c>.</summary>
    public Task<AgentView> GetAgentAsync(string agentId, CancellationToken cancellationToken = default) =>
        SendAsync<AgentView>(HttpMethod.Get, $"v1/agents/{Escape(agentId)}", null, RetryMode.Idempotent, cancellationToken);

    /// <summary><c>POST /v1/agents/{id}/state</c>. It sets an absolute state, so it is retried like a PUT.</summary>
    public Task<AgentView> SetAgentStateAsync(string agentId, AgentState state, string? reason = null, CancellationToken cancellationToken = default)
    {
        var body = new AgentStateChange(state, reason);
        return SendAsync<AgentView>(HttpMethod.Post, $"v1/agents/{Escape(agentId)}/state", () => JsonContent.Create(body, options: RoutingJson.Options), RetryMode.Idempotent, cancellationToken);
    }

    /// <summary><c>PUT /v1/agents/{id}/queues</c>: moves the agent to other queues, live; what it holds stays with it (supervisors).</summary>
    public Task<AgentView> MoveAgentAsync(string agentId, IReadOnlyList<string> queues, CancellationToken cancellationToken = default)
    {
        var body = new AgentQueuesChange(queues);
        return SendAsync<AgentView>(HttpMethod.Put, $"v1/agents/{Escape(agentId)}/queues", () => JsonContent.Create(body, options: RoutingJson.Options), RetryMode.Idempotent, cancellationToken);
    }

    /// <summary><c>POST /v1/agents/{id}/offers/{sessionId}/accept</c> (409 when the offer expired or was
    /// withdrawn). Not idempotent: retried only when no connection could be made.</summary>
    public Task<AgentView> AcceptAsync(string agentId, string sessionId, CancellationToken cancellationToken = default) =>
        AgentActionAsync(agentId, $"offers/{Escape(sessionId)}/accept", cancellationToken);

    /// <summary><c>POST /v1/agents/{id}/offers/{sessionId}/reject</c>: the session goes back to its queue at its
    /// original place. Not idempotent: retried only when no connection could be made.</summary>
    public Task<AgentView> RejectAsync(string agentId, string sessionId, CancellationToken cancellationToken = default) =>
        AgentActionAsync(agentId, $"offers/{Escape(sessionId)}/reject", cancellationToken);

    /// <summary><c>POST /v1/agents/{id}/sessions/{sessionId}/end</c>: talk ends, wrap-up starts. Not idempotent:
    /// retried only when no connection could be made.</summary>
    public Task<AgentView> EndAsync(string agentId, string sessionId, CancellationToken cancellationToken = default) =>
        AgentActionAsync(agentId, $"sessions/{Escape(sessionId)}/end", cancellationToken);

    /// <summary><c>POST /v1/agents/{id}/sessions/{sessionId}/wrap-up-done</c>: wrap-up ends early. Not idempotent:
    /// retried only when no connection could be made.</summary>
    public Task<AgentView> WrapUpDoneAsync(string agentId, string sessionId, CancellationToken cancellationToken = default) =>
        AgentActionAsync(agentId, $"sessions/{Escape(sessionId)}/wrap-up-done", cancellationToken);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    // ---- Sending, retrying, reading ----

    private enum RetryMode
    {
        /// <summary>Safe to repeat: retried on every transient failure.</summary>
        Idempotent,

        /// <summary>Not safe to repeat: retried only when the request never left this process.</summary>
        IfNeverSent,
    }

    private Task<AgentView> AgentActionAsync(string agentId, string action, CancellationToken cancellationToken) =>
        SendAsync<AgentView>(HttpMethod.Post, $"v1/agents/{Escape(agentId)}/{action}", null, RetryMode.IfNeverSent, cancellationToken);

    private Task<T> SendAsync<T>(HttpMethod method, string path, Func<HttpContent>? content, RetryMode mode, CancellationToken cancellationToken) =>
        SendAsync(method, path, content, null, mode, ReadAsync<T>, cancellationToken);

    private async Task<T> SendAsync<T>(
        HttpMethod method,
        string path,
        Func<HttpContent>? content,
        string? idempotencyKey,
        RetryMode mode,
        Func<HttpResponseMessage, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        var maxAttempts = Math.Max(1, _options.Retry.MaxAttempts);
        var refreshToken = false;
        for (var attempt = 1; ; attempt++)
        {
            var mayRetry = attempt < maxAttempts;
            TimeSpan? retryAfter = null;
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(_options.AttemptTimeout);
            try
            {
                using var request = await CreateRequestAsync(method, path, content, idempotencyKey, Json, refreshToken, attemptTimeout.Token).ConfigureAwait(false);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    // The body is read inside the attempt: an answer cut off is a transient failure too.
                    return await read(response, attemptTimeout.Token).ConfigureAwait(false);
                }

                if (RefreshOnce(response, ref refreshToken))
                {
                    // A 401 changed nothing on the server: the same request again with a fresh token, at once.
                    attempt--;
                    continue;
                }

                if (!(mayRetry && mode == RetryMode.Idempotent && Transient.IsTransient(response.StatusCode)))
                {
                    throw await ErrorAsync(response, method, path, attemptTimeout.Token).ConfigureAwait(false);
                }

                retryAfter = Transient.RetryAfter(response, _options.TimeProvider);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // This attempt timed out; the request may have been processed.
                if (!mayRetry || mode != RetryMode.Idempotent)
                {
                    throw new TimeoutException($"{method} /{path}: no answer within {_options.AttemptTimeout.TotalSeconds} s.", ex);
                }
            }
            catch (HttpRequestException ex) when (mayRetry && Transient.IsTransient(ex) && (mode == RetryMode.Idempotent || Transient.NeverSent(ex)))
            {
                // Retried below.
            }
            catch (IOException) when (mayRetry && mode == RetryMode.Idempotent)
            {
                // The answer was cut off while reading it: retried below.
            }

            await Task.Delay(_options.Retry.DelayBefore(attempt, retryAfter), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens an event stream: the headers within the attempt timeout (with retries), then the body for as
    /// long as the server sends it. The caller disposes the response.</summary>
    private async Task<HttpResponseMessage> OpenEventStreamAsync(string path, CancellationToken cancellationToken)
    {
        var maxAttempts = Math.Max(1, _options.Retry.MaxAttempts);
        var refreshToken = false;
        for (var attempt = 1; ; attempt++)
        {
            var mayRetry = attempt < maxAttempts;
            TimeSpan? retryAfter = null;
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(_options.AttemptTimeout);
            HttpResponseMessage? response = null;
            try
            {
                using var request = await CreateRequestAsync(HttpMethod.Get, path, null, null, EventStream, refreshToken, attemptTimeout.Token).ConfigureAwait(false);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    attemptTimeout.CancelAfter(Timeout.InfiniteTimeSpan);
                    var open = response;
                    response = null;
                    return open;
                }

                if (RefreshOnce(response, ref refreshToken))
                {
                    attempt--;
                    continue;
                }

                if (!(mayRetry && Transient.IsTransient(response.StatusCode)))
                {
                    throw await ErrorAsync(response, HttpMethod.Get, path, attemptTimeout.Token).ConfigureAwait(false);
                }

                retryAfter = Transient.RetryAfter(response, _options.TimeProvider);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (!mayRetry)
                {
                    throw new TimeoutException($"GET /{path}: no answer within {_options.AttemptTimeout.TotalSeconds} s.", ex);
                }
            }
            catch (HttpRequestException ex) when (mayRetry && Transient.IsTransient(ex))
            {
                // Retried below.
            }
            finally
            {
                response?.Dispose();
            }

            await Task.Delay(_options.Retry.DelayBefore(attempt, retryAfter), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpRequestMessage> CreateRequestAsync(
        HttpMethod method, string path, Func<HttpContent>? content, string? idempotencyKey, MediaTypeWithQualityHeaderValue accept, bool refreshToken, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseAddress, path)) { Content = content?.Invoke() };
        request.Headers.Accept.Add(accept);
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        }

        if (_options.AccessTokens is { } tokens)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
                await tokens.GetTokenAsync(new AccessTokenRequest(null, refreshToken), cancellationToken).ConfigureAwait(false));
        }

        return request;
    }

    /// <summary>Whether a 401 is to be answered by a fresh token and the same request: once per call, when there is a
    /// token source to ask.</summary>
    private bool RefreshOnce(HttpResponseMessage response, ref bool refreshed)
    {
        if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized || _options.AccessTokens is null || refreshed)
        {
            return false;
        }

        refreshed = true;
        return true;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<T>(RoutingJson.Options, cancellationToken).ConfigureAwait(false)
        ?? throw new JsonException($"The answer to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} had no body.");

    private static async Task<RoutingApiException> ErrorAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        RoutingProblem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = await response.Content.ReadFromJsonAsync<RoutingProblem>(RoutingJson.Options, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                // Not problem details after all: the status alone tells the caller what happened.
            }
        }

        return new RoutingApiException(response.StatusCode, problem, method.Method, "/" + path);
    }

    /// <summary>
    /// Keeps a followed session's events in step with its life. The server subscribes to the session's updates,
    /// then reads the snapshot; an update published just before the snapshot can still arrive after it (the event
    /// stream delivers asynchronously). Such an update is already in the snapshot: it is older than the latest
    /// transition known, or repeats the state (and queue) the session is known to be in. Those are skipped, so
    /// the sequence reads as the session's life, each step once.
    /// </summary>
    private sealed class SeenTransitions
    {
        private SessionState? _state;
        private string? _queueId;
        private DateTimeOffset _at = DateTimeOffset.MinValue;

        public bool Admit(SessionEvent e)
        {
            if (e.Snapshot is { } snapshot)
            {
                _state = snapshot.State;
                _queueId = snapshot.QueueId;
                _at = snapshot.History.Count > 0 ? snapshot.History[^1].At : snapshot.CreatedAt;
                return true;
            }

            if (e.Update is not { } update || update.Type == SessionEventType.Position)
            {
                return true;
            }

            if (update.At < _at || (update.State == _state && update.QueueId == _queueId))
            {
                return false;
            }

            (_state, _queueId, _at) = (update.State, update.QueueId, update.At);
            return true;
        }
    }

    /// <summary>One server-sent event's data: the session (<c>state</c>), an update, or nothing (keep-alive).</summary>
    private sealed record EventData(ClientSessionView? Snapshot, SessionUpdate? Update);

    private static EventData? ParseEvent(string eventType, ReadOnlySpan<byte> data)
    {
        switch (eventType)
        {
            case SessionEvent.KeepAliveEventName:
                return null;
            case SessionEvent.StateEventName:
                return new EventData(JsonSerializer.Deserialize<ClientSessionView>(data, RoutingJson.Options), null);
            default:
                if (Enum.TryParse<SessionEventType>(eventType, ignoreCase: true, out _))
                {
                    return new EventData(null, JsonSerializer.Deserialize<SessionUpdate>(data, RoutingJson.Options));
                }

                // An event this client does not know yet: skipped, if its data is not an update.
                try
                {
                    return new EventData(null, JsonSerializer.Deserialize<SessionUpdate>(data, RoutingJson.Options));
                }
                catch (JsonException)
                {
                    return null;
                }
        }
    }

    private static string Escape(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Uri.EscapeDataString(id);
    }

    private static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    private static HttpClient CreateHttpClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        // Attempts are timed by the client's own AttemptTimeout; an event stream may stay open for long.
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
