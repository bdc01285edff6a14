"""Voice-assistant smart speakers. Original text written for Mighty."""

DEVICE = "smart_speaker"
NOUNS = ["my smart speaker", "my {short}", "the smart speaker", "my voice assistant speaker", "my {short} speaker"]
FAMILIES = {
    "mini": ("HomeEcho Mini smart speaker", "HomeEcho Mini"),
    "studio": ("HomeEcho Studio smart speaker", "HomeEcho Studio"),
}
UNSAFE = ["use a higher-voltage adapter", "open the adapter", "cut the power cord"]
ESCALATION = ["the speaker still fails after a factory reset",
              "the light ring shows an error colour that the app cannot clear"]

ISSUES = """
== wont_connect_wifi mini manual
T HomeEcho Mini will not join the Wi-Fi network
C the Mini supports 2.4 GHz only when the router uses WPA3-only security; wrong password; router blocks new devices
S {dev} won't connect to my wifi; setup of {dev} fails at the wifi step; {dev} says it can't join the network
1 Check the {password} by connecting another device with it.
2 Make sure the router's {2.4 GHz|2.4ghz} band is enabled: the Mini cannot use 6 GHz.
3 Set router security to {WPA2|wpa2/wpa3} (or WPA2/WPA3 mixed) if it is WPA3-only.
4 Turn off MAC address {filtering|allow list} or add the speaker to it.
5 Hold the action button for 15 seconds to {reset|factory reset} and run setup again.

== setup_not_found mini guide
T The app cannot find the speaker during setup
C speaker not in setup mode; phone location or Bluetooth off; app permissions
S the app can't find {dev} during setup; {dev} isn't found when I add a device; setup never sees {dev}
1 Wait until the light ring pulses {orange|setup mode} before starting setup.
2 Turn on {Bluetooth|location} on the phone and allow the app both permissions.
3 Keep the phone {close|within 1 m|near} to the speaker.
4 If the ring is not orange, hold the action button 15 seconds to {reset|factory reset}.

== doesnt_hear_wake_word studio faq
T Speaker does not respond to the wake word
C microphones muted; speaker placed next to a noisy appliance or in a corner; music too loud
S {dev} doesn't respond when I say the wake word; {dev} ignores me; I have to shout at {dev}
1 Check the {mic switch|microphone switch|mute} on the back is not showing red.
2 Move the speaker at least 20 cm from {walls|wall} and away from the TV, fridge or fan.
3 Lower the {music volume|volume} when speaking, or speak toward the top of the speaker.
4 Retrain your {voice profile|voice} in the app.
5 {Restart|unplug} the speaker for 30 seconds.

== false_wake mini faq
T Speaker wakes up on its own
C TV dialogue sounds like the wake word; sensitivity too high
S {dev} wakes up randomly; {dev} keeps activating during tv; {dev} answers nobody
1 Lower {wake word sensitivity|sensitivity} in the app.
2 Change the {wake word} to another option if available.
3 Move the speaker {away from the TV|away|farther} from the TV speaker.
4 Review voice {history|activity} to see what triggered it.

== offline_after_router_change mini guide
T Speaker offline after a new router or password change
C stored network no longer exists
S {dev} went offline after I changed my router; {dev} says offline; {dev} lost wifi after a new password
1 Open the app, select the speaker and choose {Wi-Fi settings|wi-fi|update wi-fi} or Change network.
2 If the app cannot reach it, {reset|factory reset} the speaker by holding the action button 15 seconds.
3 Run {setup} again with the new network name and password.
4 Consider keeping the old network name and {password} on the new router to avoid this next time.

== music_service_not_playing studio faq
T Music requests play from the wrong service or fail
C service not linked; default service not set; family account restrictions
S {dev} won't play my playlists; {dev} says it can't find the song; {dev} plays from the wrong music app
1 Link your music {account|service} in the app's music settings.
2 Set it as the {default|default service}.
3 Say the {service name|service} in your request to test.
4 Check the {subscription|plan} is active.

== bluetooth_pairing studio guide
T Pairing a phone to play over Bluetooth
C Bluetooth pairing not enabled on the speaker
S how do I pair my phone to {dev} with bluetooth; {dev} doesn't show up in bluetooth; can't connect my phone to {dev} over bluetooth
1 Say "{pair Bluetooth|pair}" or enable pairing mode in the app's device settings.
2 Open {Bluetooth} settings on the phone and select the speaker.
3 {Forget|remove} old entries if it fails.
4 Remember Bluetooth works alongside {Wi-Fi|wifi} casting, not instead of setup.

== group_playback_out_of_sync studio forum
T Multi-room group plays out of sync
C a speaker on weak Wi-Fi; a mix of Bluetooth and Wi-Fi speakers; TV speakers with delay
S my speaker group with {dev} is out of sync; {dev} echoes against the other room; multi room with {dev} lags
1 Use only {Wi-Fi|wifi} connected speakers in the group.
2 Adjust the {group delay|delay} in the app for the lagging speaker.
3 Improve {signal|wi-fi signal} on the lagging speaker.
4 {Restart|reboot} the router and speakers.

== smart_home_commands_fail mini faq
T Voice commands to lights and plugs fail
C device names mismatch; linked account expired; devices not in a room
S {dev} says device not responding; {dev} can't turn on my lights; {dev} doesn't find my plugs
1 Check device {names|name} in the app match what you say.
2 {Relink|unlink} the manufacturer's account in the app.
3 Assign devices to a {room}.
4 Test the device in its {own app|manufacturer app}.

== voice_match_wrong_person studio faq
T Assistant confuses who is speaking
C voice models trained in a noisy room; similar voices
S {dev} thinks I'm my partner; {dev} gives the wrong calendar; voice match on {dev} mixes us up
1 {Retrain|re-train} each person's voice model in a quiet room.
2 Remove and add {voice match|voice profile} again.
3 Turn on {personal results|personal} only for verified voices.
4 Update the {app|firmware}.

== timers_alarms_not_sounding mini faq
T Alarm or timer goes off silently
C alarm volume separate from media volume; do not disturb
S {dev} alarm doesn't ring; my timer on {dev} was silent; {dev} didn't wake me
1 Raise the {alarm volume|alarm} in device settings.
2 Check {do not disturb|dnd} schedules.
3 Test with a {1 minute timer|timer}.
4 {Restart|reboot} the speaker.

== distorted_bass studio guide
T Bass sounds boomy or distorts at higher volume
C speaker pushed into a corner or cabinet that amplifies bass; bass EQ turned up; loose objects on the shelf resonating
S {dev} has boomy bass; the bass on {dev} distorts when it gets loud; {dev} makes the shelf rattle
1 Move the speaker out of the {corner} or cabinet and at least 20 cm from the wall.
2 In the app, lower the {bass|eq} slider two or three steps from its current level.
3 Stand it on a {solid surface|surface} rather than a hollow shelf or glass table.
4 Remove {loose objects|rattle} around it that buzz along with the bass.

== hot_power_adapter mini faq safety
T Power adapter very hot, cracked or smelling of burning
C failing adapter; damaged cable; wrong adapter
S the plug of {dev} is really hot and smells; {dev} adapter is melting; {dev} charger smells burnt
1 {Unplug|disconnect} the adapter if safe to touch.
2 {Stop using|stop} it and do not use the speaker until replaced.
3 Check for {scorch|damage|melted} marks on the socket and do not use that socket until checked.
4 {Contact support|support|manufacturer} for an approved replacement adapter.
E heat, melting or a burning smell from the adapter
U tape up the cable; keep using it if it still works; use any higher-voltage adapter you have

== lights_red_ring mini faq
T Light ring stays red and the speaker does not listen
C microphones turned off with the mic button; the mic switch toggled when the speaker was moved
S {dev} shows a red ring all the time; the light on {dev} stays red; {dev} is red and won't listen to me
1 Press the {mic button|microphone button|mute} on the top once to turn the microphones back on.
2 Check the light turns {off|blue}: red means the microphones are muted, not that the speaker is broken.
3 Say the {wake word} from a few metres away to confirm it responds.
4 If it stays red, unplug it for 30 seconds and {restart|unplug} it; a red ring that never clears needs a reset.

== keeps_dropping_wifi studio forum
T Speaker drops off Wi-Fi repeatedly
C band steering pushing it between 2.4 and 5 GHz; far from the nearest mesh node; IP address conflict after a lease renews
S {dev} keeps going offline; {dev} disconnects from the wifi every night; {dev} keeps saying wifi connection lost
1 Check the Wi-Fi {signal strength|signal} shown for the speaker in the app.
2 Move the speaker closer to a {mesh node|router|access point}, or add a node halfway.
3 Reserve a fixed {IP address|dhcp reservation} for the speaker in the router's DHCP settings.
4 Update the router {firmware|update} and restart it.

== stereo_pair_fails studio guide
T Two speakers will not form a stereo pair
C the speakers are different models; they are assigned to different rooms; one runs older firmware
S I can't stereo pair my two {dev}; the stereo pair option is missing for {dev}; {dev} won't pair as left and right
1 Use {two identical|same model} speakers: a Mini and a Studio cannot form a stereo pair.
2 Assign both to the {same room} in the app.
3 Open the first speaker's settings, choose {speaker pair|stereo pair} and pick left and right.
4 If the option is greyed out, {update|firmware} both speakers and restart them.

== calls_not_working mini faq
T Voice calls from the speaker fail
C calling not enabled; contacts permission not granted; phone number not verified
S {dev} can't call my mum; {dev} says it doesn't know my contacts; calling from {dev} fails every time
1 Turn on {calling} in the app's communication settings.
2 Allow the app to upload your {contacts}, then say the name exactly as it is saved.
3 Verify your own {phone number|number} in the app.
4 {Restart|reboot} the speaker after changing these settings.

== routines_not_triggering studio faq
T Routines do not run at the set time or phrase
C wrong time zone on the speaker; trigger phrase differs from what is said; one failing action stops the rest
S my routine on {dev} doesn't start; {dev} ignores my morning routine; the bedtime routine on {dev} does nothing
1 Check the speaker's {time zone} and address in device settings.
2 Compare the {trigger phrase|phrase|trigger} with what you actually say.
3 Run each {action} separately from the app to find the one that fails.
4 Delete and {recreate|re-create} the routine if it still will not run.

== speaks_wrong_language mini faq
T Assistant answers in the wrong language
C language set during setup on another phone; region setting mismatched; a second language auto-detected
S {dev} talks to me in another language; {dev} answers in spanish; {dev} doesn't understand my english
1 Set the assistant {language} in the speaker's device settings.
2 Check the {region|country} setting matches where you live.
3 Remove or add a {second language} if the household uses two.
4 {Restart|reboot} the speaker so the new voice model loads.

== no_response_spinning mini guide
T Light spins but the assistant never answers
C home internet is down; DNS problems on the router; temporary service outage
S {dev} just spins and never answers; {dev} keeps saying something went wrong; {dev} lights up but doesn't respond
1 Check the {internet|wi-fi} works on another device on the same network.
2 {Restart|reboot} the router and wait until it is fully online.
3 Unplug the speaker for {30 seconds} and plug it back in.
4 Check the assistant service {status} page in the app for an outage before resetting anything.
"""
