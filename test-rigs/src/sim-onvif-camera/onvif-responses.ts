import { CONCRETE_SET_DIALECT, NS, TOPIC_HIK_VEHICLE, TOPIC_LICENSE_PLATE } from './namespaces.ts';
import { escapeXml as x } from './soap-xml.ts';

/**
 * Response bodies of the ONVIF operations the simulator answers, element by element as the WSDLs
 * (devicemgmt.wsdl, media.wsdl, event.wsdl, deviceio.wsdl) and onvif.xsd name them. Prefixes are
 * those declared on every envelope (namespaces.ts).
 */
export interface CameraIdentity {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export const PROFILE_TOKEN = 'profile_lpr';
export const VIDEO_SOURCE_TOKEN = 'video_src_1';

export function systemDateAndTime(now: number): string {
  const d = new Date(now);
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
    '<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    '<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
    '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export interface ServiceAddresses {
  device: string;
  media: string;
  events: string;
  deviceIO: string;
}

export function services(addr: ServiceAddresses): string {
  const one = (ns: string, xaddr: string, minor: number) =>
    `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${x(xaddr)}</tds:XAddr>` +
    `<tds:Version><tt:Major>2</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
  return (
    '<tds:GetServicesResponse>' +
    one(NS.tds, addr.device, 60) +
    one(NS.trt, addr.media, 60) +
    one(NS.tev, addr.events, 60) +
    one(NS.tmd, addr.deviceIO, 60) +
    '</tds:GetServicesResponse>'
  );
}

export function capabilities(addr: ServiceAddresses): string {
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${x(addr.device)}</tt:XAddr></tt:Device>` +
    `<tt:Events><tt:XAddr>${x(addr.events)}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
    '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>' +
    `<tt:Media><tt:XAddr>${x(addr.media)}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
    '<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>' +
    `<tt:Extension><tt:DeviceIO><tt:XAddr>${x(addr.deviceIO)}</tt:XAddr><tt:VideoSources>1</tt:VideoSources>` +
    '<tt:VideoOutputs>0</tt:VideoOutputs><tt:AudioSources>0</tt:AudioSources><tt:AudioOutputs>0</tt:AudioOutputs>' +
    '<tt:RelayOutputs>1</tt:RelayOutputs></tt:DeviceIO></tt:Extension>' +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function deviceInformation(id: CameraIdentity): string {
  return (
    '<tds:GetDeviceInformationResponse>' +
    `<tds:Manufacturer>${x(id.manufacturer)}</tds:Manufacturer><tds:Model>${x(id.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(id.firmwareVersion)}</tds:FirmwareVersion>` +
    `<tds:SerialNumber>${x(id.serialNumber)}</tds:SerialNumber><tds:HardwareId>${x(id.hardwareId)}</tds:HardwareId>` +
    '</tds:GetDeviceInformationResponse>'
  );
}

/** Milliseconds as an xs:duration, to the millisecond (PT0.25S): a simulated reboot may be short. */
function msDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(3).replace(/\.?0+$/, '')}S`;
}

export function firmwareUpgradeStarted(
  uploadUri: string,
  uploadDelayMs: number,
  expectedDownMs: number,
): string {
  return (
    `<tds:StartFirmwareUpgradeResponse><tds:UploadUri>${x(uploadUri)}</tds:UploadUri>` +
    `<tds:UploadDelay>${msDuration(uploadDelayMs)}</tds:UploadDelay>` +
    `<tds:ExpectedDownTime>${msDuration(expectedDownMs)}</tds:ExpectedDownTime>` +
    '</tds:StartFirmwareUpgradeResponse>'
  );
}

export function profiles(): string {
  return (
    `<trt:GetProfilesResponse><trt:Profiles token="${PROFILE_TOKEN}" fixed="true"><tt:Name>LPR</tt:Name>` +
    '<tt:VideoSourceConfiguration token="vsc_1"><tt:Name>VideoSource_1</tt:Name><tt:UseCount>1</tt:UseCount>' +
    `<tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>` +
    '<tt:VideoEncoderConfiguration token="vec_1"><tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount>' +
    '<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>' +
    '<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>' +
    '<tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
    '</trt:Profiles></trt:GetProfilesResponse>'
  );
}

export function videoSources(): string {
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>25</tt:Framerate>` +
    '<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>'
  );
}

export function snapshotUri(uri: string): string {
  return (
    `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri>` +
    '<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>' +
    '<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>'
  );
}

const simpleItemDescription = (name: string, type: string) =>
  `<tt:SimpleItemDescription Name="${name}" Type="${type}"/>`;

export function eventProperties(): string {
  const plateMessage =
    '<tt:MessageDescription IsProperty="false"><tt:Source>' +
    simpleItemDescription('VideoSource', 'tt:ReferenceToken') +
    simpleItemDescription('Rule', 'xs:string') +
    '</tt:Source><tt:Key>' +
    simpleItemDescription('ObjectId', 'xs:string') +
    '</tt:Key><tt:Data>' +
    simpleItemDescription('PlateNumber', 'xs:string') +
    simpleItemDescription('PlateType', 'xs:string') +
    simpleItemDescription('CountryCode', 'xs:string') +
    simpleItemDescription('Likelihood', 'xs:float') +
    '</tt:Data></tt:MessageDescription>';
  const hikMessage =
    '<tt:MessageDescription IsProperty="false"><tt:Source>' +
    simpleItemDescription('VideoSource', 'tt:ReferenceToken') +
    '</tt:Source><tt:Key>' +
    simpleItemDescription('ObjectId', 'xs:string') +
    '</tt:Key><tt:Data>' +
    simpleItemDescription('LicensePlate', 'xs:string') +
    simpleItemDescription('PlateType', 'xs:string') +
    simpleItemDescription('Country', 'xs:string') +
    simpleItemDescription('Confidence', 'xs:int') +
    '</tt:Data></tt:MessageDescription>';
  return (
    '<tev:GetEventPropertiesResponse>' +
    '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet><tns1:RuleEngine>' +
    `<Recognition><LicensePlate wstop:topic="true">${plateMessage}</LicensePlate></Recognition>` +
    `<VehicleDetector><tnshik:Vehicle wstop:topic="true">${hikMessage}</tnshik:Vehicle></VehicleDetector>` +
    '</tns1:RuleEngine></wstop:TopicSet>' +
    `<wsnt:TopicExpressionDialect>${CONCRETE_SET_DIALECT}</wsnt:TopicExpressionDialect>` +
    '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsnt/t-1/TopicExpression/ConcreteSet</wsnt:TopicExpressionDialect>' +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
    '</tev:GetEventPropertiesResponse>'
  );
}

export function subscriptionCreated(address: string, now: number, terminationAt: number): string {
  return (
    '<tev:CreatePullPointSubscriptionResponse>' +
    `<tev:SubscriptionReference><wsa:Address>${x(address)}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${new Date(now).toISOString()}</wsnt:CurrentTime>` +
    `<wsnt:TerminationTime>${new Date(terminationAt).toISOString()}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

/** One event as it sits in a pull point's queue: its topic, when, and its Source/Key/Data items. */
export interface QueuedEvent {
  topic: string;
  utcTime: number;
  source: Record<string, string>;
  key: Record<string, string>;
  data: Record<string, string>;
}

const items = (values: Record<string, string>) =>
  Object.entries(values)
    .map(([name, value]) => `<tt:SimpleItem Name="${x(name)}" Value="${x(value)}"/>`)
    .join('');

export function notificationMessage(
  event: QueuedEvent,
  subscriptionAddress: string,
  producer: string,
): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:SubscriptionReference><wsa:Address>${x(subscriptionAddress)}</wsa:Address></wsnt:SubscriptionReference>` +
    `<wsnt:Topic Dialect="${CONCRETE_SET_DIALECT}">${x(event.topic)}</wsnt:Topic>` +
    `<wsnt:ProducerReference><wsa:Address>${x(producer)}</wsa:Address></wsnt:ProducerReference>` +
    `<wsnt:Message><tt:Message UtcTime="${new Date(event.utcTime).toISOString()}">` +
    `<tt:Source>${items(event.source)}</tt:Source><tt:Key>${items(event.key)}</tt:Key><tt:Data>${items(event.data)}</tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

export function pulled(messages: string[], now: number, terminationAt: number): string {
  return (
    '<tev:PullMessagesResponse>' +
    `<tev:CurrentTime>${new Date(now).toISOString()}</tev:CurrentTime>` +
    `<tev:TerminationTime>${new Date(terminationAt).toISOString()}</tev:TerminationTime>` +
    messages.join('') +
    '</tev:PullMessagesResponse>'
  );
}

export function renewed(now: number, terminationAt: number): string {
  return (
    '<wsnt:RenewResponse>' +
    `<wsnt:TerminationTime>${new Date(terminationAt).toISOString()}</wsnt:TerminationTime>` +
    `<wsnt:CurrentTime>${new Date(now).toISOString()}</wsnt:CurrentTime></wsnt:RenewResponse>`
  );
}

export function relayOutputs(tokens: readonly string[]): string {
  return (
    '<tmd:GetRelayOutputsResponse>' +
    tokens
      .map(
        (t) =>
          `<tmd:RelayOutputs token="${x(t)}"><tt:Properties><tt:Mode>Monostable</tt:Mode>` +
          '<tt:DelayTime>PT5S</tt:DelayTime><tt:IdleState>open</tt:IdleState></tt:Properties></tmd:RelayOutputs>',
      )
      .join('') +
    '</tmd:GetRelayOutputsResponse>'
  );
}

export { TOPIC_HIK_VEHICLE, TOPIC_LICENSE_PLATE };
