/** The vSphere agent's SOAP layer: XML built safely, replies and faults decoded, errors classified. */
import { strict as assert } from 'node:assert';
import { PermanentError, TransientError } from '../../provider-agents/core/errors.ts';
import { consoleUrlFromTicket } from '../../provider-agents/vsphere/driver.ts';
import { ref } from '../../provider-agents/vsphere/soap/client.ts';
import { faultFromSoap, faultFromTaskError, isNotFound, toAgentError, TransportError, VimFault } from '../../provider-agents/vsphere/soap/faults.ts';
import { normaliseThumbprint } from '../../provider-agents/vsphere/soap/transport.ts';
import { buildEnvelope, child, childByLocalName, parseXml, toRequestValue, XmlEncodingError } from '../../provider-agents/vsphere/soap/xml.ts';
import { decodeUpdateSet } from '../../provider-agents/vsphere/vim/property.ts';
import { deviceChange, newDisk, patchDevice, scsiController } from '../../provider-agents/vsphere/vim/spec.ts';
import { applyProperty, emptyRecord, generationOf, guestIps, uidOf } from '../../provider-agents/vsphere/vim/vm-record.ts';

const body = (xml: string) => childByLocalName(childByLocalName(parseXml(xml), 'Envelope'), 'Body');

describe('vSphere SOAP: requests', () => {
  it('escapes every value (no string-built XML): a name with markup stays one text node', () => {
    const xml = buildEnvelope('Login', { _this: ref({ type: 'SessionManager', value: 'SessionManager' }), userName: 'a</userName><x>&"\'', password: '<p>' });
    assert.ok(!xml.includes('<x>'), xml);
    const login = childByLocalName(body(xml), 'Login');
    assert.equal(child(login, 'userName'), 'a</userName><x>&"\'');
    assert.equal(child(login, 'password'), '<p>');
    assert.match(xml, /<_this type="SessionManager">SessionManager<\/_this>/);
  });

  it('decodes character references in replies (vcsim writes a newline as &#xA;)', () => {
    assert.equal(child(parseXml('<v>a&#xA;b&#65;&amp;</v>'), 'v'), 'a\nbA&');
  });

  it('refuses characters XML cannot carry instead of sending a broken envelope', () => {
    assert.throws(() => buildEnvelope('Rename_Task', { newName: 'bad\u0001name' }), (e: unknown) => e instanceof XmlEncodingError && /Rename_Task.newName/.test(e.message));
  });

  it('keeps numbers and booleans in nested device changes and the WSDL element order', () => {
    const xml = buildEnvelope('ReconfigVM_Task', {
      spec: { deviceChange: [deviceChange('add', scsiController('pvscsi', -101, 1)), deviceChange('add', newDisk({ key: -102, controllerKey: -101, unitNumber: 0, sizeGiB: 2, thin: true, eagerlyScrub: false }), 'create')] },
    });
    assert.match(xml, /<device xsi:type="ParaVirtualSCSIController"><key>-101<\/key><busNumber>1<\/busNumber><sharedBus>noSharing<\/sharedBus><\/device>/);
    assert.match(xml, /<operation>add<\/operation><fileOperation>create<\/fileOperation><device xsi:type="VirtualDisk"><key>-102<\/key><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName><\/fileName><diskMode>persistent<\/diskMode><thinProvisioned>true<\/thinProvisioned><\/backing><controllerKey>-101<\/controllerKey><unitNumber>0<\/unitNumber><capacityInKB>2097152<\/capacityInKB><capacityInBytes>2147483648<\/capacityInBytes>/);
  });

  it('sends a parsed device back with xsi:type restored (vcsim writes another prefix) and patched fields in WSDL order', () => {
    const parsed = parseXml('<d xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="VirtualDisk"><key>204</key><backing XMLSchema-instance:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] a.vmdk</fileName></backing><controllerKey>202</controllerKey><unitNumber>0</unitNumber><capacityInKB>1024</capacityInKB><newerField>x</newerField></d>');
    // A field this agent does not know (a newer vSphere's) keeps its place after the one it followed.
    const patched = patchDevice(child(parsed, 'd')!, { capacityInKB: '4096', connectable: { connected: true } });
    assert.deepEqual(Object.keys(patched), ['@_xsi:type', 'key', 'backing', 'connectable', 'controllerKey', 'unitNumber', 'capacityInKB', 'newerField']);
    const xml = buildEnvelope('X', { device: patched });
    assert.match(xml, /<device xsi:type="VirtualDisk"><key>204<\/key><backing xsi:type="VirtualDiskFlatVer2BackingInfo">/);
    assert.ok(!xml.includes('XMLSchema-instance:type'), xml);
    assert.deepEqual(toRequestValue(child(parseXml('<v xmlns:XMLSchema-instance="i" XMLSchema-instance:type="XMLSchema:string">s</v>'), 'v')), { '@_xsi:type': 'xsd:string', '#text': 's' });
  });

  it('builds the AcquireTicket request for a web console', () => {
    const xml = buildEnvelope('AcquireTicket', { _this: ref({ type: 'VirtualMachine', value: 'vm-42' }), ticketType: 'webmks' });
    assert.match(xml, /<AcquireTicket xmlns="urn:vim25"><_this type="VirtualMachine">vm-42<\/_this><ticketType>webmks<\/ticketType><\/AcquireTicket>/);
  });

  it('turns a recorded AcquireTicket reply into the console URL', () => {
    const reply = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><AcquireTicketResponse xmlns="urn:vim25"><returnval><ticket>52 9a f1</ticket><cfgFile>[ds1] vm/vm.vmx</cfgFile><host>esx1.example.com</host><port>443</port><sslThumbprint>AA:BB</sslThumbprint></returnval></AcquireTicketResponse></soapenv:Body></soapenv:Envelope>`;
    const ret = child(childByLocalName(body(reply), 'AcquireTicketResponse'), 'returnval');
    assert.equal(consoleUrlFromTicket(ret, 'vc.example.com'), 'wss://esx1.example.com:443/ticket/52%209a%20f1');
    const withUrl = child(parseXml('<r><ticket>t</ticket><url>wss://vc.example.com/ticket/t</url></r>'), 'r');
    assert.equal(consoleUrlFromTicket(withUrl, 'vc.example.com'), 'wss://vc.example.com/ticket/t');
    assert.throws(() => consoleUrlFromTicket(child(parseXml('<r><host>h</host></r>'), 'r'), 'vc'), (e: unknown) => e instanceof TransientError && e.reason === 'MalformedReply');
  });
});

describe('vSphere SOAP: faults', () => {
  const soapFault = (detail: string) => childByLocalName(body(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>the message</faultstring><detail>${detail}</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`), 'Fault')!;

  it('reads the fault type from xsi:type or the detail element, and the object a ManagedObjectNotFound names', () => {
    const f = faultFromSoap(soapFault('<ManagedObjectNotFoundFault xmlns="urn:vim25" xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-9</obj></ManagedObjectNotFoundFault>'), 'PowerOnVM_Task');
    assert.equal(f.faultName, 'ManagedObjectNotFound');
    assert.deepEqual(f.missingObject, { type: 'VirtualMachine', value: 'vm-9' });
    assert.match(f.message, /PowerOnVM_Task failed with ManagedObjectNotFound: the message/);
    assert.equal(faultFromSoap(soapFault('<InvalidArgumentFault xmlns="urn:vim25"><invalidProperty>spec</invalidProperty></InvalidArgumentFault>'), 'X').faultName, 'InvalidArgument');
    assert.equal(faultFromSoap(soapFault(''), 'X').faultName, 'UnknownFault');
  });

  it('reads a task error (LocalizedMethodFault)', () => {
    const err = child(parseXml('<error><fault xsi:type="InvalidDeviceSpec" xmlns:xsi="x"><deviceIndex>1</deviceIndex></fault><localizedMessage>Invalid configuration for device \'1\'.</localizedMessage></error>'), 'error')!;
    const f = faultFromTaskError(err, 'reconfiguring vm-1');
    assert.equal(f.faultName, 'InvalidDeviceSpec');
    assert.match(f.message, /Invalid configuration for device '1'/);
  });

  it('takes only ManagedObjectNotFound for "gone"; other faults retry or fail with their name as reason', () => {
    const gone = new VimFault('ManagedObjectNotFound', 'm', 'X');
    assert.ok(isNotFound(gone));
    for (const name of ['NotAuthenticated', 'HostCommunication', 'TaskInProgress', 'SystemError', 'RequestCanceled', 'NotFound', 'InvalidArgument']) {
      assert.ok(!isNotFound(new VimFault(name, 'm', 'X')), name);
    }
    const transient = toAgentError(new VimFault('HostCommunication', 'lost', 'X'), 'powering on vm-1');
    assert.ok(transient instanceof TransientError);
    assert.equal(transient.reason, 'HostCommunication');
    const permanent = toAgentError(new VimFault('InvalidDeviceSpec', 'bad', 'X'), 'reconfiguring vm-1');
    assert.ok(permanent instanceof PermanentError);
    assert.equal(permanent.reason, 'InvalidDeviceSpec');
    assert.match(permanent.message, /^reconfiguring vm-1: /);
    const login = toAgentError(new VimFault('InvalidLogin', 'Cannot complete login due to an incorrect user name or password.', 'Login'), 'connecting');
    assert.equal(login.reason, 'InvalidCredentials');
    assert.match(login.message, /credential Secret \(keys username, password\)/);
    assert.equal(toAgentError(new TransportError('ECONNREFUSED', 'network'), 'x').reason, 'ProviderUnreachable');
    assert.equal(toAgentError(new TransportError('pin', 'tls'), 'x').reason, 'CertificateVerificationFailed');
    assert.equal(toAgentError(new TransportError('junk', 'malformed'), 'x').reason, 'MalformedReply');
  });

  it('normalises certificate fingerprints and rejects ones of the wrong length', () => {
    assert.equal(normaliseThumbprint('ab:cd:' + 'ef'.repeat(30)), 'ABCD' + 'EF'.repeat(30));
    assert.equal(normaliseThumbprint('a'.repeat(40)).length, 40);
    assert.throws(() => normaliseThumbprint('abcd'), /64 hex digits/);
  });
});

describe('vSphere SOAP: property-collector updates', () => {
  it('decodes an UpdateSet and applies whole-config values, extraConfig identity and guest IPs', () => {
    const xml = `<returnval xmlns:xsi="x"><version>7</version><filterSet><filter type="PropertyFilter">f-1</filter><objectSet><kind>enter</kind><obj type="VirtualMachine">vm-5</obj>
      <changeSet><name>config</name><op>assign</op><val xsi:type="VirtualMachineConfigInfo"><template>false</template><hardware><numCPU>4</numCPU><memoryMB>8192</memoryMB><device xsi:type="VirtualDisk"><key>2000</key><controllerKey>1000</controllerKey><unitNumber>0</unitNumber></device><device xsi:type="VirtualVmxnet3"><key>4000</key></device></hardware>
        <extraConfig xsi:type="OptionValue"><key>virtrigaud.uid</key><value xsi:type="xsd:string">u-1</value></extraConfig><extraConfig xsi:type="OptionValue"><key>virtrigaud.generation</key><value xsi:type="xsd:string">12</value></extraConfig><firmware>efi</firmware></val></changeSet>
      <changeSet><name>guest.net</name><op>assign</op><val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo><macAddress>00:50:56:00:00:01</macAddress><ipAddress>10.0.0.5</ipAddress><ipAddress>fe80::1</ipAddress></GuestNicInfo></val></changeSet>
      <changeSet><name>guest.ipAddress</name><op>assign</op><val xsi:type="xsd:string">10.0.0.5</val></changeSet>
      <changeSet><name>runtime.powerState</name><op>assign</op><val xsi:type="VirtualMachinePowerState">poweredOn</val></changeSet></objectSet></filterSet><truncated>false</truncated></returnval>`;
    const set = decodeUpdateSet(child(parseXml(xml), 'returnval'))!;
    assert.equal(set.version, '7');
    assert.equal(set.filters[0]!.objects[0]!.kind, 'enter');
    const rec = emptyRecord({ type: 'VirtualMachine', value: 'vm-5' });
    for (const c of set.filters[0]!.objects[0]!.changes) applyProperty(rec, c.name, c.val);
    assert.equal(uidOf(rec), 'u-1');
    assert.equal(generationOf(rec), 12n);
    assert.equal(rec.numCPU, 4);
    assert.equal(rec.memoryMB, 8192);
    assert.equal(rec.firmware, 'efi');
    assert.deepEqual(rec.devices.map((d) => [d.type, d.key]), [['VirtualDisk', 2000], ['VirtualVmxnet3', 4000]]);
    assert.equal(rec.powerState, 'poweredOn');
    assert.deepEqual(guestIps(rec), ['10.0.0.5', 'fe80::1']);
  });

  it('raises a clear error on a reply that is not XML or lacks a reference', () => {
    assert.throws(() => parseXml('<a><b></a>'), /not well-formed XML/);
    assert.throws(() => decodeUpdateSet(child(parseXml('<r><version>1</version><filterSet><filter>f</filter></filterSet></r>'), 'r')), /expected a managed object reference for PropertyFilterUpdate.filter/);
  });
});
